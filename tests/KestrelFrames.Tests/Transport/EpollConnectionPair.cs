using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KestrelFrames.Primitives;
using KestrelFrames.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// An epoll connection over the server end of a loopback pair, on a loop and a pool of its own (4 KiB blocks), and
/// the client end as a plain socket that reads only when asked: the transport's pipes tested without a server.
/// </summary>
internal sealed class EpollConnectionPair : IAsyncDisposable
{
    public const int BlockSize = 4096;

    private readonly EpollLoop _loop;

    private EpollConnectionPair(EpollLoop loop, BlockMemoryPool pool, EpollConnection connection, Socket client)
    {
        _loop = loop;
        Pool = pool;
        Connection = connection;
        Client = client;
    }

    public BlockMemoryPool Pool { get; }

    public EpollConnection Connection { get; }

    public Socket Client { get; }

    /// <param name="inputPause">Unread bytes at which the connection stops receiving (0: never).</param>
    /// <param name="outputPause">Unsent bytes at which a flush waits (0: never).</param>
    public static async Task<EpollConnectionPair> StartAsync(long inputPause = 0, long outputPause = 0)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 64 * 1024 };
        await client.ConnectAsync(listener.LocalEndPoint!);
        Socket server = await listener.AcceptAsync();
        server.Blocking = false;
        server.SendBufferSize = 64 * 1024;

        var loop = new EpollLoop(0, NullLogger.Instance);
        var pool = new BlockMemoryPool(BlockSize, retained: 16);
        var input = new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline, inputPause, inputPause / 2, useSynchronizationContext: false);
        var output = new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline, outputPause, outputPause / 2, useSynchronizationContext: false);
        var connection = new EpollConnection(loop, server, pool, input, output);
        connection.Start();
        return new EpollConnectionPair(loop, pool, connection, client);
    }

    /// <summary>Exactly <paramref name="length"/> bytes from the server, read by the client.</summary>
    public async Task<byte[]> ReceiveAsync(int length)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        byte[] buffer = new byte[length];
        int received = 0;
        while (received < length)
        {
            int n = await Client.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, timeout.Token);
            Assert.True(n > 0, $"The stream ended after {received} of {length} bytes.");
            received += n;
        }

        return buffer;
    }

    /// <summary>Reads the server's input until at least <paramref name="length"/> bytes are buffered, consuming nothing.</summary>
    public async Task<ReadOnlySequence<byte>> ReadAtLeastAsync(int length)
    {
        PipeReader input = Connection.Transport.Input;
        while (true)
        {
            ReadResult result = await input.ReadAsync();
            if (result.Buffer.Length >= length || result.IsCompleted)
            {
                return result.Buffer;
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // A read completes inline on the loop's thread, so the test may be running there now: joining the loop from
        // its own thread would wait forever.
        await Task.Yield();
        Client.Dispose();
        Connection.Abort(new ConnectionAbortedException("The test is over."));
        await Connection.DisposeAsync();
        _loop.Dispose();
    }
}
