using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using KestrelFrames.Primitives;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace KestrelFrames.Transport;

/// <summary>
/// One connection of the epoll transport, with Kestrel's connection contract above it (a duplex pipe, abort,
/// ConnectionClosed, the features), so TLS, the PROXY reader and the frame connection run unchanged.
/// Receiving (<c>.Receive.cs</c>) runs on the loop's thread: one recv, when epoll says there is data, straight into
/// the input pipe's next block. Sending (<see cref="EpollPipeWriter"/>) runs on the thread that flushes. Closing:
/// completing the output sends what is left, then a FIN; <see cref="DisposeAsync"/> closes the socket on the loop's
/// thread.
/// The socket is level-triggered, watched for input unless the input pipe is full, and for EPOLLOUT only while a
/// send waits for room: in the steady state no epoll_ctl runs at all.
/// </summary>
internal sealed partial class EpollConnection : ConnectionContext, IDuplexPipe, IEpollTarget,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature,
    IMemoryPoolFeature, IConnectionEndPointFeature, IConnectionSocketFeature, IConnectionHalfCloseFeature
{
    private static readonly Type[] s_ownFeatures =
    [
        typeof(IConnectionIdFeature), typeof(IConnectionTransportFeature), typeof(IConnectionItemsFeature),
        typeof(IConnectionLifetimeFeature), typeof(IMemoryPoolFeature), typeof(IConnectionEndPointFeature),
        typeof(IConnectionSocketFeature), typeof(IConnectionHalfCloseFeature),
    ];

    private static readonly LingerOption s_resetOnClose = new(enable: true, seconds: 0);
    private static readonly Action<object?> s_close = static state => ((EpollConnection)state!).CloseSocket(null);
    private static readonly Action<object?> s_abort = static state =>
    {
        var connection = (EpollConnection)state!;
        connection._output.Abort();
        connection.CloseSocket(connection.AbortError());
    };

    private readonly EpollLoop _loop;
    private readonly Socket _socket;
    private readonly SafeSocketHandle _handle;
    private readonly EpollPipeReader _input;
    private readonly EpollPipeWriter _output;
    private readonly CancellationTokenSource _closed = new();
    // Guards the epoll interest and, shared with the output, its marks (EpollPipeWriter); never held across a wait.
    private readonly Lock _lock = new();
    private GCHandle _registration;
    private bool _registered;
    private bool _socketClosed;
    private uint _interest;
    private IDictionary<object, object?>? _items;
    private ConnectionAbortedException? _abortReason;
    private volatile bool _aborted;
    // Receiving and sending each end once; the second to end makes ConnectionClosed fire.
    private int _directionsEnded;

    public EpollConnection(EpollLoop loop, Socket socket, MemoryPool<byte> pool, PipeOptions inputOptions, PipeOptions outputOptions)
    {
        _loop = loop;
        _socket = socket;
        _handle = socket.SafeHandle;
        MemoryPool = pool;
        _input = new EpollPipeReader(this, _lock, pool, inputOptions);
        _output = new EpollPipeWriter(this, _lock, _handle, pool, outputOptions);
        ConnectionId = ConnectionIds.Next();
        Features = new ConnectionFeatures(this, s_ownFeatures);
        Transport = this;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        ConnectionClosed = _closed.Token;
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public MemoryPool<byte> MemoryPool { get; }

    public Socket Socket => _socket;

    PipeReader IDuplexPipe.Input => _input;

    PipeWriter IDuplexPipe.Output => _output;

    /// <summary>Starts watching the socket: from here on its input flows into the pipe.</summary>
    public void Start()
    {
        lock (_lock)
        {
            // Set first: the loop may report the socket (and read it) before Register returns.
            _registered = true;
            _interest = Libc.EPOLLIN | Libc.EPOLLRDHUP;
            _registration = _loop.Register(_handle, _interest, this);
        }
    }

    public void OnEvents(uint events)
    {
        if ((events & Libc.EPOLLOUT) != 0)
        {
            _output.OnWritable();
        }

        if ((events & (Libc.EPOLLIN | Libc.EPOLLRDHUP | Libc.EPOLLHUP | Libc.EPOLLERR)) != 0)
        {
            OnReadable(events);
        }
    }

    /// <summary>
    /// Drops the connection at once: the socket is closed with a reset (SO_LINGER 0), which also discards answers
    /// still in the kernel, as a dropped connection must, and the input ends with <paramref name="abortReason"/>.
    /// </summary>
    public override void Abort(ConnectionAbortedException abortReason)
    {
        Interlocked.CompareExchange(ref _abortReason, abortReason, null);
        _aborted = true;
        try
        {
            _socket.LingerState = s_resetOnClose;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already broken or closed.
        }

        // The rest on the loop's thread: resuming a waiting flush runs its continuation, and through the pipes the
        // layers above (TLS), inline, and the caller may be any thread (the heartbeat's timer, a worker). A failure there
        // must meet the loop's catch, not escape into the caller: on a timer thread it would end the process.
        _loop.Post(s_abort, this);
    }

    public override async ValueTask DisposeAsync()
    {
        _input.Complete();
        _output.Complete();
        // Never faults: it completes once the output is out (or the connection aborted or broke).
        await _output.Ended;
        _loop.Post(s_close, this);
        await base.DisposeAsync();
    }

    private ConnectionAbortedException AbortError() =>
        _abortReason ?? new ConnectionAbortedException("The connection was aborted.");

    /// <summary>
    /// Ends the input (with <paramref name="receiveError"/> if it has not ended yet) and closes the socket, on the
    /// loop's thread (see <see cref="EpollLoop"/> on handles). Twice is harmless: an abort, then the disposal.
    /// </summary>
    private void CloseSocket(Exception? receiveError)
    {
        if (_receiveState != ReceiveState.Done)
        {
            EndReceive(receiveError);
        }

        if (_socketClosed)
        {
            return;
        }

        _socketClosed = true;
        StopWatching();
        // Unread input makes this a reset, as with any socket closed unread: the graceful paths drain it first.
        _socket.Dispose();
        _loop.Release(ref _registration);
    }

    private void StopWatching()
    {
        lock (_lock)
        {
            if (_registered)
            {
                _registered = false;
                _loop.Unregister(_handle);
            }
        }
    }

    /// <summary>Watches for what the two directions need now: input unless it is full or done, room to send while a send waits.</summary>
    internal void UpdateInterest()
    {
        lock (_lock)
        {
            if (!_registered)
            {
                return;
            }

            uint interest = (_receiveState == ReceiveState.Receiving ? Libc.EPOLLIN | Libc.EPOLLRDHUP : 0)
                | (_output.WaitingForWritable ? Libc.EPOLLOUT : 0);
            if (interest != _interest)
            {
                _interest = interest;
                _loop.Modify(_handle, interest, _registration);
            }
        }
    }

    private void DirectionEnded()
    {
        if (Interlocked.Increment(ref _directionsEnded) == 2)
        {
            // Off the loop's thread and off the flusher's: ConnectionClosed callbacks are the application's code.
            ThreadPool.UnsafeQueueUserWorkItem(static closed => closed.Cancel(), _closed, preferLocal: false);
        }
    }

    internal static IOException SocketError(string call, int errno) => errno switch
    {
        104 or 32 => new ConnectionResetException($"{call}: the connection was reset (errno {errno})."),
        _ => new IOException($"{call} failed: errno {errno}."),
    };
}
