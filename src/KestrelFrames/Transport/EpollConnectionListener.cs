using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using KestrelFrames.Primitives;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Transport;

/// <summary>
/// One listening socket, watched edge-triggered by the first loop. Kestrel's accept loop calls
/// <see cref="AcceptAsync"/>, which accepts until the backlog is empty and then waits for the next edge: accepting
/// keeps Kestrel's pace, and the backlog, not a queue of ours, holds what it has not taken yet. Accepted sockets go
/// to the loops in turn. One acceptor rather than a SO_REUSEPORT socket per loop: a second process could then bind
/// the same port without an error, which an operator would not expect of a server.
/// </summary>
internal sealed partial class EpollConnectionListener : IConnectionListener, IEpollTarget
{
    private const int ECONNABORTED = 103;
    private const int EMFILE = 24;
    private const int ENFILE = 23;
    private const int ENOBUFS = 105;
    private const int ENOMEM = 12;

    // Out of descriptors: the pending connection stays in the backlog, and no new edge may come for it; look again
    // after this pause, as a server that cannot accept must not spin either.
    private static readonly TimeSpan s_retryAfterExhaustion = TimeSpan.FromMilliseconds(50);
    private static readonly Action<object?> s_close = static state => ((EpollConnectionListener)state!).Close();

    private readonly Socket _socket;
    private readonly EpollLoop[] _loops;
    private readonly MemoryPool<byte> _pool;
    private readonly PipeOptions _input;
    private readonly PipeOptions _output;
    private readonly ILogger _logger;
    // Continuations on the thread pool: Kestrel's accept loop must not run on an event loop's thread.
    private readonly AsyncSignal _acceptable = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private GCHandle _registration;
    private uint _nextLoop;
    private volatile bool _unbound;

    public EpollConnectionListener(IPEndPoint endPoint, EpollLoop[] loops, MemoryPool<byte> pool, PipeOptions input, PipeOptions output, ILogger logger)
    {
        _loops = loops;
        _pool = pool;
        _input = input;
        _output = output;
        _logger = logger;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                _socket.DualMode = true;
            }

            _socket.Bind(endPoint);
            _socket.Listen(512);
            _socket.Blocking = false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            _socket.Dispose();
            throw new AddressInUseException(ex.Message, ex);
        }

        EndPoint = _socket.LocalEndPoint!;
        _registration = loops[0].Register(_socket.SafeHandle, Libc.EPOLLIN | Libc.EPOLLET, this);
    }

    public EndPoint EndPoint { get; }

    public void OnEvents(uint events) => _acceptable.Set();

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (!_unbound)
        {
            int fd = Accept(out int errno);
            if (fd >= 0 && TryCreateConnection(fd) is { } connection)
            {
                return connection;
            }

            switch (errno)
            {
                case 0 or ECONNABORTED or Libc.EINTR:
                    // Created and already gone, reset before it was accepted, or interrupted: take the next one.
                    continue;
                case Libc.EAGAIN:
                    await _acceptable.WaitAsync();
                    continue;
                case EMFILE or ENFILE or ENOBUFS or ENOMEM:
                    LogAcceptExhausted(_logger, errno);
                    await Task.Delay(s_retryAfterExhaustion, cancellationToken);
                    continue;
                default:
                    if (_unbound)
                    {
                        return null;
                    }

                    throw new IOException($"accept4 failed: errno {errno}.");
            }
        }

        return null;
    }

    /// <summary>
    /// Completes once the listening socket is closed. Kestrel binds the endpoint again right after this (a changed
    /// certificate or configuration rebinds it on the same port), and the socket is closed on the loop's thread: a
    /// busy loop would otherwise still hold the port when the new bind comes, and the endpoint would be lost.
    /// The token is not watched, as Kestrel's own listener does not: Kestrel's Dispose unbinds with a token already
    /// cancelled, and the close always comes (the loop runs it, or its Dispose does).
    /// </summary>
    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        if (!_unbound)
        {
            _unbound = true;
            _loops[0].Post(s_close, this);
            _acceptable.Set();
        }

        return new ValueTask(_closed.Task);
    }

    public ValueTask DisposeAsync() => UnbindAsync();

    private unsafe int Accept(out int errno)
    {
        try
        {
            int fd = Libc.Accept(_socket.SafeHandle, null, null, Libc.O_NONBLOCK | Libc.O_CLOEXEC);
            errno = fd >= 0 ? 0 : Marshal.GetLastPInvokeError();
            return fd;
        }
        catch (ObjectDisposedException)
        {
            // Unbound meanwhile.
            errno = -1;
            return -1;
        }
    }

    private EpollConnection? TryCreateConnection(int fd)
    {
        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        try
        {
            // As Kestrel's socket transport does by default: answers are small and must not wait for Nagle.
            socket.NoDelay = true;
            EpollLoop loop = _loops[Interlocked.Increment(ref _nextLoop) % (uint)_loops.Length];
            var connection = new EpollConnection(loop, socket, _pool, _input, _output);
            connection.Start();
            return connection;
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            // Reset between accept and here (its endpoints cannot be read), or epoll refused it (out of memory):
            // nothing to serve, and the accept loop goes on.
            socket.Dispose();
            return null;
        }
    }

    /// <summary>On the first loop's thread, so no event still queued can name the freed registration.</summary>
    private void Close()
    {
        _loops[0].Unregister(_socket.SafeHandle);
        _socket.Dispose();
        _loops[0].Release(ref _registration);
        _closed.TrySetResult();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Frames listener cannot accept: out of descriptors or memory (errno {Errno}); retrying.")]
    private static partial void LogAcceptExhausted(ILogger logger, int errno);
}
