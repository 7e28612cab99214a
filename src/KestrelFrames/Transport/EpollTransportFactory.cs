using System.IO.Pipelines;
using System.Net;
using KestrelFrames.Primitives;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Transport;

/// <summary>
/// The epoll transport, as Kestrel sees it. Kestrel asks each transport factory in turn whether it binds an
/// endpoint (<see cref="IConnectionListenerFactorySelector"/>): this one takes only the endpoint claimed for it
/// (the Frames endpoint), so HTTP stays on Kestrel's sockets. Written for this server because Kestrel's socket
/// transport cannot read on readiness (two receives per request), holds two pipes and two loops per idle connection,
/// and cannot half-close (docs/architecture.md, "Transport").
/// </summary>
internal sealed partial class EpollTransportFactory(
    IOptions<FrameServerOptions> options,
    IOptions<SocketTransportOptions> socketOptions,
    BlockMemoryPoolFactory pools,
    ILogger<EpollTransportFactory> logger) : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly Lock _lock = new();
    private EndPoint? _claimed;
    private EpollLoop[]? _loops;

    /// <summary>The event loops, once the first endpoint is bound.</summary>
    public int LoopCount => _loops?.Length ?? 0;

    /// <summary>
    /// Marks the endpoint this transport binds. Kestrel hands a transport the endpoint object of the listen options
    /// (matched by reference, which tells two port-0 endpoints apart), or for <c>localhost</c> and <c>*</c> URLs one
    /// per address, with the configured port.
    /// </summary>
    public void Claim(EndPoint endPoint) => _claimed = endPoint;

    public bool CanBind(EndPoint endpoint) =>
        _claimed is IPEndPoint claimed && endpoint is IPEndPoint candidate
        && (ReferenceEquals(claimed, candidate)
            || (claimed.Port != 0 && claimed.Port == candidate.Port
                && (claimed.Address.Equals(candidate.Address) || IPAddress.IsLoopback(claimed.Address)
                    || claimed.Address.Equals(IPAddress.Any) || claimed.Address.Equals(IPAddress.IPv6Any))));

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip)
        {
            throw new NotSupportedException($"The epoll transport binds IP endpoints only, not {endpoint}.");
        }

        EpollLoop[] loops = EnsureLoops();
        var pool = pools.Create();
        SocketTransportOptions limits = socketOptions.Value;
        // The same limits as Kestrel's socket transport (its SocketTransport section), so switching transports
        // changes no memory bound: input stops being read at MaxReadBufferSize, a flush waits at MaxWriteBufferSize.
        var input = new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline,
            limits.MaxReadBufferSize ?? 0, (limits.MaxReadBufferSize ?? 0) / 2, pool.MaxBufferSize, useSynchronizationContext: false);
        var output = new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline,
            limits.MaxWriteBufferSize ?? 0, (limits.MaxWriteBufferSize ?? 0) / 2, pool.MaxBufferSize, useSynchronizationContext: false);
        return new(new EpollConnectionListener(ip, loops, pool, input, output, logger));
    }

    // Called twice: the container disposes this as itself and as the IConnectionListenerFactory it also is.
    public void Dispose()
    {
        EpollLoop[]? loops;
        lock (_lock)
        {
            loops = _loops;
            _loops = null;
        }

        foreach (EpollLoop loop in loops ?? [])
        {
            loop.Dispose();
        }
    }

    private EpollLoop[] EnsureLoops()
    {
        lock (_lock)
        {
            if (_loops is null)
            {
                int count = options.Value.TransportLoops is > 0 and int configured ? configured : Environment.ProcessorCount;
                _loops = new EpollLoop[count];
                for (int i = 0; i < count; i++)
                {
                    _loops[i] = new EpollLoop(i, logger);
                }
            }

            return _loops;
        }
    }
}
