using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KestrelFrames.Primitives;
using KestrelFrames.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace KestrelFrames.Tests.Transport;

public sealed class EpollListenerUnbindTests
{
    [Fact]
    public async Task Unbinding_completes_only_once_the_port_is_free_for_the_rebind_that_follows()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // The epoll transport is Linux's; xunit 2 has no runtime skip.
        }

        using var loop = new EpollLoop(0, NullLogger.Instance);
        using var pool = new BlockMemoryPool(4096, retained: 4);
        await using var listener = new EpollConnectionListener(new IPEndPoint(IPAddress.Loopback, 0), [loop], pool, PipeOptions.Default, PipeOptions.Default, NullLogger.Instance);
        var bound = (IPEndPoint)listener.EndPoint;

        // The loop busy with other work, as under load: the listening socket is closed on its thread, later.
        using var busy = new ManualResetEventSlim();
        loop.Post(_ => busy.Wait(), null);
        bool doneEarly;
        Task unbinding;
        try
        {
            ValueTask pending = listener.UnbindAsync();
            doneEarly = pending.IsCompleted;
            unbinding = pending.AsTask();
        }
        finally
        {
            busy.Set(); // Whatever happened, the loop must not stay blocked: disposing it joins its thread.
        }

        Assert.False(doneEarly, "unbinding reported done while the port was still held");
        await unbinding;
        using var rebind = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        rebind.Bind(bound);
    }
}
