using System.Net;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;
using KestrelFrames.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace KestrelFrames.Connections;

/// <summary>
/// One frame connection: a read loop that parses frames straight from the transport and hands requests to the
/// worker pool, and a write loop that answers them in request order. The two meet only in the
/// <see cref="ResponseQueue"/>, whose capacity is the connection's in-flight limit.
/// </summary>
// _aborted has no timer and no linked token, so there is nothing to dispose; and a late Cancel from the heartbeat
// or the shutdown timeout must never hit a disposed source.
#pragma warning disable CA1001
internal sealed partial class FrameConnection : FrameConnectionInfo, ISlotOwner
#pragma warning restore CA1001
{
    private readonly ConnectionContext _context;
    private readonly FrameServices _services;
    private readonly ResponseQueue _queue;
    private readonly ConnectionTimeouts _timeouts;
    private readonly CancellationTokenSource _aborted = new();
    // The client's rate-limit partition, held by ConnectionLimitMiddleware for this connection's life; null when
    // Frames:RateLimit:RequestsPerSecond was off as the connection opened, which is then the request path's only cost.
    private readonly ClientRatePartition? _rate;
    private long _pendingFrameReservation;
    private long _bytesFlushed;
    private RequestBatch _batch;
    // One batch per lane (by lane index) when a lane classifier is registered, else null and _batch is the only one.
    private readonly RequestBatch[]? _laneBatches;
    private bool _receivedAnyBytes;
    private bool _rateLimitLogged;
    // Why the server ends the connection, once it does: a timeout's status, or ShuttingDown (a drain or the
    // maximum age, which replace a timeout that has not been acted on yet; or the application's RequestClose,
    // which replaces nothing). 0 while none.
    private int _closeReason;
    // The application's RequestClose set the ShuttingDown above; a drain may set it too, and then says nothing here.
    private volatile bool _closeRequested;
    private volatile bool _outputClosed;
    private volatile bool _ending;
    private int _failed;

    public FrameConnection(ConnectionContext context, FrameServices services)
    {
        _context = context;
        _services = services;
        // A connection keeps the in-flight limit and timeouts of the configuration it opened under: a reload
        // applies them to new connections.
        FrameServerOptions options = services.Options;
        _queue = new ResponseQueue(this, options.MaxInFlightPerConnection);
        _timeouts = new ConnectionTimeouts(options, services.Time, services.Time.GetTimestamp());

        // Set by the middleware only while the request limit is on (decided there, once, for this connection).
        _rate = context.Features.Get<ClientRatePartition>();
        _laneBatches = services.Pool.Router is null ? null : new RequestBatch[services.Pool.Lanes.Count];
    }

    public string ConnectionId => _context.ConnectionId;

    public override EndPoint? RemoteEndPoint => _context.RemoteEndPoint;

    // Looked up when asked, not stored: the PROXY reader replaced RemoteEndPoint with the client, the socket still
    // knows its peer.
    public override EndPoint? PeerEndPoint => _context.Features.Get<IConnectionSocketFeature>()?.Socket.RemoteEndPoint ?? RemoteEndPoint;

    public override EndPoint? LocalEndPoint => _context.LocalEndPoint;

    /// <summary>Cancelled when the client can no longer receive answers: handlers may stop early.</summary>
    public override CancellationToken Aborted => _aborted.Token;

    public BufferBudget Budget => _services.Budget;

    public ResourceLedger Ledger => _services.Ledger;

    public LargeBufferPool Buffers => _services.Buffers;

    public int UnansweredRequests => _queue.CountUnansweredRequests();

    public async Task RunAsync()
    {
        _services.Metrics.ConnectionOpened();
        LogConnectionOpened(_services.Logger, ConnectionId, RemoteEndPoint);

        // Kestrel cancels this at shutdown. A client FIN fires ConnectionClosed instead, which must not stop the
        // work in flight: the client may still be reading.
        using CancellationTokenRegistration closeRequested = _context.Features.Get<IConnectionLifetimeNotificationFeature>()
            ?.ConnectionClosedRequested.UnsafeRegister(static state => ((FrameConnection)state!).ShutDown(), this) ?? default;
        _services.Connections.Register(this);
        IFrameConnectionLifecycle? lifecycle = _services.Lifecycle;
        try
        {
            if (lifecycle is not null && !await ConnectedAsync(lifecycle))
            {
                // Nothing was read or answered: end as a refused connection does, without a reset.
                await LingerAsync();
                return;
            }

            Task writing = WriteLoopAsync();
            FrameStatus? final = null;
            try
            {
                final = await ReadLoopAsync();
            }
#pragma warning disable CA1031 // Whatever failed, the write loop must still be awaited and every slot returned.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // Parsed requests not yet handed to the pool would never complete: the write loop would wait on them.
                _batch.CompleteAll(FrameStatus.HandlerError);
                if (_laneBatches is not null)
                {
                    for (int i = 0; i < _laneBatches.Length; i++)
                    {
                        _laneBatches[i].CompleteAll(FrameStatus.HandlerError);
                    }
                }

                Fail(ex);
            }
            finally
            {
                _queue.Complete();
            }

            // The write loop never throws and always drains the queue, so every slot's buffers are back in the pool
            // when this returns.
            await writing;
            if (lifecycle is not null)
            {
                await ClosingAsync(lifecycle, final);
            }

            // The closing status is flushed: FIN, and read what the client still sends until it closes, so the
            // close resets nothing. A connection whose output broke has nothing left to protect.
            if (final is not null && !_outputClosed)
            {
                await LingerAsync();
            }
            else if (!_outputClosed)
            {
                await FinishAsync();
            }
        }
        finally
        {
            _services.Connections.Unregister(this);
            if (_pendingFrameReservation > 0)
            {
                _services.Budget.Release(_pendingFrameReservation);
            }

            if (!_receivedAnyBytes)
            {
                _services.Metrics.ProbeConnection();
            }

            if (_services.State.IsDraining)
            {
                _services.State.ConnectionDrained();
            }

            _services.Metrics.ConnectionClosed();
            LogConnectionClosed(_services.Logger, ConnectionId, RemoteEndPoint, _receivedAnyBytes);
        }
    }

    /// <summary>
    /// The host's shutdown timeout ran out: cancel the handlers and drop the connection. Returns the requests that
    /// were still unanswered.
    /// </summary>
    public int AbortForShutdown()
    {
        int unanswered = _queue.CountUnansweredRequests();
        _context.Abort(new ConnectionAbortedException("The server's shutdown timeout ran out."));
        CloseOutput();
        return unanswered;
    }

    /// <summary>
    /// Called by the shared heartbeat, once a tick, on a timer thread. Never throws: an exception out of a timer
    /// callback ends the process, and a timeout's abort runs the transport's and TLS's code.
    /// </summary>
    public void OnHeartbeat(long now)
    {
        try
        {
            CheckTimeouts(now);
        }
#pragma warning disable CA1031 // A bug in one connection's timeout path is that connection's failure, not the process's.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Fail(ex);
        }
    }

    private void CheckTimeouts(long now)
    {
        switch (_timeouts.Check(now, nothingInFlight: _queue.Count == 0))
        {
            case ConnectionTimeout.Frame:
                TimeOut(FrameStatus.FrameTimeout, ProtocolErrorReason.FrameTimeout);
                break;
            case ConnectionTimeout.Idle:
                TimeOut(FrameStatus.IdleTimeout, ProtocolErrorReason.IdleTimeout);
                break;
            case ConnectionTimeout.Write:
                if (!_outputClosed)
                {
                    _writeTimedOut = true;
                    _services.Metrics.ProtocolError(ProtocolErrorReason.WriteTimeout);
                    if (_services.WriteTimeouts.TryEnter())
                    {
                        LogWriteTimeout(_services.Logger, ConnectionId, RemoteEndPoint);
                    }

                    // Abort drops the transport; cancelling the stuck flush lets the write loop drain the slots.
                    _context.Abort(new ConnectionAbortedException("Write timeout: the client did not read its answers."));
                    _context.Transport.Output.CancelPendingFlush();
                    CloseOutput();
                }

                break;
            case ConnectionTimeout.MaxAge:
                ShutDown();
                break;
        }
    }

    private void TimeOut(FrameStatus status, ProtocolErrorReason reason)
    {
        // Once the connection is ending, its input is not processed any more: nothing can time out.
        if (_ending || Interlocked.CompareExchange(ref _closeReason, (int)status, 0) != 0)
        {
            return;
        }

        _services.Metrics.ProtocolError(reason);

        // An idle client is normal (it went away without closing): not worth a warning.
        if (status == FrameStatus.IdleTimeout)
        {
            LogIdle(_services.Logger, ConnectionId, RemoteEndPoint);
        }
        else
        {
            LogClientFault(status);
        }
        _context.Transport.Input.CancelPendingRead();
    }

    /// <summary>The status to end with, once the server has decided to end the connection.</summary>
    private FrameStatus? CloseReason => Volatile.Read(ref _closeReason) is int reason and not 0 ? (FrameStatus)reason : null;

    /// <summary>A drain or the maximum age: stop reading new requests at once, even mid-buffer.</summary>
    private bool CloseRequested => Volatile.Read(ref _closeReason) == (int)FrameStatus.ShuttingDown;

    /// <summary>A drain (Kestrel's close request) or the maximum age: end with ShuttingDown, replacing a timeout not acted on yet.</summary>
    private void ShutDown()
    {
        Volatile.Write(ref _closeReason, (int)FrameStatus.ShuttingDown);
        _context.Transport.Input.CancelPendingRead();
    }

    public override void RequestClose()
    {
        // The application's reason must not replace a status the server already ends with; nor count once it ends.
        if (_ending || Interlocked.CompareExchange(ref _closeReason, (int)FrameStatus.ShuttingDown, 0) != 0)
        {
            return;
        }

        _closeRequested = true;
        LogCloseRequested(_services.Logger, ConnectionId, RemoteEndPoint);
        _context.Transport.Input.CancelPendingRead();
    }

    private void LogClientFault(FrameStatus status)
    {
        if (_services.ClientFaults.TryEnter())
        {
            LogClientFault(_services.Logger, ConnectionId, RemoteEndPoint, status);
        }
    }
}
