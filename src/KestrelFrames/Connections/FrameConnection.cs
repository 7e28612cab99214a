using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using KestrelFrames.Observability;
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
internal sealed partial class FrameConnection
#pragma warning restore CA1001
{
    private readonly ConnectionContext _context;
    private readonly FrameServices _services;
    private readonly ResponseQueue _queue;
    private readonly ConnectionTimeouts _timeouts;
    private readonly CancellationTokenSource _aborted = new();
    private long _pendingFrameReservation;
    private long _bytesFlushed;
    private FrameWorkItem? _batchHead;
    private FrameWorkItem? _batchTail;
    private bool _receivedAnyBytes;
    private volatile bool _closeRequested;
    private volatile bool _outputClosed;
    private volatile bool _ending;
    private int _failed;
    private FrameStatus? _timedOut;

    public FrameConnection(ConnectionContext context, FrameServices services)
    {
        _context = context;
        _services = services;
        _queue = new ResponseQueue(this, services.Options.MaxInFlightPerConnection);
        _timeouts = new ConnectionTimeouts(services.Options, services.Time, services.Time.GetTimestamp());
    }

    public string ConnectionId => _context.ConnectionId;

    public EndPoint? RemoteEndPoint => _context.RemoteEndPoint;

    /// <summary>Cancelled when the client can no longer receive answers: handlers may stop early.</summary>
    public CancellationToken Aborted => _aborted.Token;

    public BufferBudget Budget => _services.Budget;

    public ResourceLedger Ledger => _services.Ledger;

    public int UnansweredRequests => _queue.CountUnansweredRequests();

    public async Task RunAsync()
    {
        // Kestrel's own scope carries the connection id; this adds the client's address (after PROXY protocol).
        using IDisposable? scope = s_remoteEndPointScope(_services.Logger, RemoteEndPoint);
        _services.Metrics.ConnectionOpened();
        LogConnectionOpened(_services.Logger, ConnectionId, RemoteEndPoint);

        // Kestrel cancels this at shutdown. A client FIN fires ConnectionClosed instead, which must not stop the
        // work in flight: the client may still be reading.
        using CancellationTokenRegistration closeRequested = _context.Features.Get<IConnectionLifetimeNotificationFeature>()
            ?.ConnectionClosedRequested.UnsafeRegister(static state => ((FrameConnection)state!).RequestClose(), this) ?? default;
        _services.Heartbeat.Register(this);
        try
        {
            Task writing = WriteLoopAsync();
            bool endedByServer = false;
            try
            {
                endedByServer = await ReadLoopAsync();
            }
#pragma warning disable CA1031 // Whatever failed, the write loop must still be awaited and every slot returned.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // Parsed requests not yet handed to the pool would never complete: the write loop would wait on them.
                CompleteBatch(_batchHead, FrameStatus.HandlerError);
                _batchHead = _batchTail = null;
                Fail(ex);
            }
            finally
            {
                _queue.Complete();
            }

            // The write loop never throws and always drains the queue, so every slot's buffers are back in the pool
            // when this returns.
            await writing;

            // The closing status is flushed: FIN, and read what the client still sends until it closes, so the
            // close resets nothing. A connection whose output broke has nothing left to protect.
            if (endedByServer && !_outputClosed)
            {
                await LingerAsync();
            }
        }
        finally
        {
            _services.Heartbeat.Unregister(this);
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
            LogConnectionClosed(_services.Logger, ConnectionId, _receivedAnyBytes);
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

    /// <summary>Called by the shared heartbeat, once a tick, on a timer thread.</summary>
    public void OnHeartbeat(long now)
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
                RequestClose();
                break;
        }
    }

    private void TimeOut(FrameStatus status, ProtocolErrorReason reason)
    {
        // Once the connection is ending, its input is not processed any more: nothing can time out.
        if (_timedOut is not null || _closeRequested || _ending)
        {
            return;
        }

        _timedOut = status;
        _services.Metrics.ProtocolError(reason);

        // An idle client is normal (it went away without closing): not worth a warning.
        if (status == FrameStatus.IdleTimeout)
        {
            LogIdle(_services.Logger, ConnectionId);
        }
        else
        {
            LogClientFault(status);
        }
        _context.Transport.Input.CancelPendingRead();
    }

    private void RequestClose()
    {
        _closeRequested = true;
        _context.Transport.Input.CancelPendingRead();
    }

    /// <summary>Reads and dispatches until the connection ends; true when it ends with a closing status of ours.</summary>
    private async Task<bool> ReadLoopAsync()
    {
        PipeReader input = _context.Transport.Input;
        FrameStatus? final = _services.State.IsDraining ? FrameStatus.ShuttingDown : null;
        while (final is null)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync();
            }
            catch (Exception ex) when (ex is IOException or ConnectionAbortedException or ConnectionResetException)
            {
                LogReadFailed(_services.Logger, ConnectionId, ex.Message);
                CloseOutput();
                return false;
            }

            if (_outputClosed)
            {
                return false;
            }

            if (result.IsCanceled && (_timedOut is not null || _closeRequested))
            {
                final = _closeRequested ? FrameStatus.ShuttingDown : _timedOut ?? FrameStatus.ShuttingDown;
                input.AdvanceTo(result.Buffer.Start);
                break;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            _receivedAnyBytes |= !buffer.IsEmpty;
            final = await ParseAndDispatchAsync(buffer);
            if (final is null && result.IsCompleted)
            {
                // The client half-closed: answer everything it sent, then close. A partial frame is dropped.
                return false;
            }
        }

        _ending = true;
        if (!_queue.TryReserve(out FrameWorkItem last))
        {
            last = await WaitForSlotAsync();
        }

        last.SetStatus(final.Value);
        _queue.Publish();
        return true;
    }

    /// <summary>
    /// Dispatches every complete frame in <paramref name="buffer"/> and advances the reader once for the batch.
    /// Returns the status that ends the connection, if this batch ends it.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FrameStatus?> ParseAndDispatchAsync(ReadOnlySequence<byte> buffer)
    {
        PipeReader input = _context.Transport.Input;
        int maxFrameSize = _services.Options.MaxFrameSize;
        long now = _services.Time.GetTimestamp();
        long received = buffer.Length;
        bool parsedAny = false;
        FrameStatus? final = null;
        while (final is null && !_closeRequested)
        {
            FrameParseResult parsed = FrameParser.TryParse(ref buffer, maxFrameSize, out ReadOnlySequence<byte> payload);
            if (parsed == FrameParseResult.Incomplete)
            {
                await SubmitBatchAsync();
                await ReserveForPartialFrameAsync(buffer);
                break;
            }

            if (parsed != FrameParseResult.Frame)
            {
                bool tooLarge = parsed == FrameParseResult.FrameTooLarge;
                final = tooLarge ? FrameStatus.FrameTooLarge : FrameStatus.ProtocolError;
                _services.Metrics.ProtocolError(tooLarge ? ProtocolErrorReason.FrameTooLarge : ProtocolErrorReason.ProtocolError);
                LogClientFault(final.Value);
                break;
            }

            parsedAny = true;
            if (!_queue.TryReserve(out FrameWorkItem slot))
            {
                // Every slot is in flight: the batch must reach the pool before this loop waits for one back.
                await SubmitBatchAsync();
                slot = await WaitForSlotAsync();
            }

            if (payload.IsEmpty)
            {
                slot.SetHeartbeat();
                _queue.Publish();
                continue;
            }

            long length = payload.Length;
            bool reserved = _pendingFrameReservation == length || _services.Budget.TryReserve(length);
            _pendingFrameReservation = 0;
            if (!reserved)
            {
                if (_services.Options.OverloadMode == OverloadMode.Shed)
                {
                    slot.SetRejected(FrameStatus.Busy, now);
                    _queue.Publish();
                    continue;
                }

                await SubmitBatchAsync();
                await ReserveBudgetAsync(length);
            }

            slot.SetRequest(payload, now);
            _queue.Publish();
            if (_batchTail is null)
            {
                _batchHead = slot;
            }
            else
            {
                _batchTail.NextInBatch = slot;
            }

            _batchTail = slot;
        }

        await SubmitBatchAsync();

        // Everything parsed is consumed; the rest is examined, so the next read waits for new bytes.
        _services.Metrics.BytesReceived(received - buffer.Length);
        input.AdvanceTo(buffer.Start, buffer.End);
        _timeouts.AfterRead(now, partialFrameLeft: !buffer.IsEmpty, parsedAny);
        return _closeRequested ? FrameStatus.ShuttingDown : final;
    }

    /// <summary>
    /// Hands the requests parsed so far to the pool as one work item (Garnet's batching): one queue operation per
    /// read instead of one per request. Each request keeps its own slot, outcome and place in the answer order.
    /// </summary>
    private ValueTask SubmitBatchAsync()
    {
        FrameWorkItem? batch = _batchHead;
        if (batch is null)
        {
            return ValueTask.CompletedTask;
        }

        _batchHead = _batchTail = null;
        return _services.Pool.TrySubmit(batch) ? ValueTask.CompletedTask : SubmitWhenFullAsync(batch);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReserveBudgetAsync(long length)
    {
        _timeouts.PauseRead();
        await _services.Budget.ReserveAsync(length, CancellationToken.None);
        _timeouts.ResumeRead(_services.Time.GetTimestamp());
    }

    /// <summary>
    /// A frame whose header has arrived takes its share of the buffer budget before its payload is read, so frames
    /// trickling in on many connections cannot hold more than MaxBufferedBytes between them.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReserveForPartialFrameAsync(ReadOnlySequence<byte> buffer)
    {
        if (_pendingFrameReservation > 0 || !FrameParser.TryPeekLength(buffer, out int length) || length == 0)
        {
            return;
        }

        if (!_services.Budget.TryReserve(length))
        {
            await ReserveBudgetAsync(length);
        }

        _pendingFrameReservation = length;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FrameWorkItem> WaitForSlotAsync()
    {
        _timeouts.PauseRead();
        FrameWorkItem slot;
        while (!_queue.TryReserve(out slot))
        {
            await _queue.WaitForReleaseAsync();
        }

        _timeouts.ResumeRead(_services.Time.GetTimestamp());
        return slot;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SubmitWhenFullAsync(FrameWorkItem batch)
    {
        if (_services.Options.OverloadMode == OverloadMode.Shed)
        {
            CompleteBatch(batch, FrameStatus.Busy);
            return;
        }

        // Backpressure: this loop stops reading until the pool has room, and TCP pushes back on the client.
        _timeouts.PauseRead();
        do
        {
            if (!await _services.Pool.WaitForSpaceAsync(CancellationToken.None))
            {
                CompleteBatch(batch, FrameStatus.Busy);
                break;
            }
        }
        while (!_services.Pool.TrySubmit(batch));
        _timeouts.ResumeRead(_services.Time.GetTimestamp());
    }

    private static void CompleteBatch(FrameWorkItem? batch, FrameStatus status)
    {
        while (batch is not null)
        {
            // Read the link first: completing lets the write loop reset the slot.
            FrameWorkItem? next = batch.NextInBatch;
            batch.NextInBatch = null;
            batch.Complete(status);
            batch = next;
        }
    }

    private async Task WriteLoopAsync()
    {
        PipeWriter output = _context.Transport.Output;
        long unflushed = 0;
        while (true)
        {
            if (!_queue.TryPeek(out FrameWorkItem slot))
            {
                // Flush once per batch of ready answers, then look again: more may have arrived meanwhile.
                if (unflushed > 0)
                {
                    await FlushAsync(output, unflushed);
                    unflushed = 0;
                    continue;
                }

                if (_queue.IsCompleted)
                {
                    if (_queue.Count == 0)
                    {
                        return;
                    }

                    continue;
                }

                await _queue.WaitForPublishAsync();
                continue;
            }

            if (!slot.IsCompleted)
            {
                if (unflushed > 0)
                {
                    await FlushAsync(output, unflushed);
                    unflushed = 0;
                }

                await slot.WaitAsync();
            }

            bool final = slot.Kind == FrameSlotKind.Status;
            try
            {
                if (!_outputClosed)
                {
                    unflushed += slot.WriteAnswer(output);
                }

                if (slot.Kind == FrameSlotKind.Request)
                {
                    _services.Metrics.RequestAnswered(slot.Status, _services.Time.GetElapsedTime(slot.ReceivedTimestamp));
                    if (_services.State.IsDraining)
                    {
                        _services.State.RequestDrained();
                    }
                }
            }
#pragma warning disable CA1031 // The slot must be released whatever failed, or the read loop waits for it forever.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Fail(ex);
            }

            _queue.Release();
            if (final)
            {
                break;
            }
        }

        if (unflushed > 0)
        {
            await FlushAsync(output, unflushed);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync(PipeWriter output, long bytes)
    {
        if (_outputClosed)
        {
            return;
        }

        _services.Metrics.BytesSent(bytes);
        _bytesFlushed += bytes;
        try
        {
            ValueTask<FlushResult> flushing = output.FlushAsync();
            if (!flushing.IsCompleted)
            {
                // Only a flush that waits on the client can time out: stamping it costs nothing otherwise.
                _timeouts.FlushStarted(_services.Time.GetTimestamp());
            }

            FlushResult result = await flushing;
            _timeouts.FlushCompleted(_services.Time.GetTimestamp());
            if (result.IsCompleted || result.IsCanceled)
            {
                CloseOutput();
            }
        }
        catch (Exception ex) when (ex is IOException or ConnectionAbortedException or ConnectionResetException)
        {
            LogWriteFailed(_services.Logger, ConnectionId, ex.Message);
            CloseOutput();
        }
#pragma warning disable CA1031 // Anything else is a bug: reported once, and the write loop goes on draining.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Fail(ex);
        }
    }

    private async Task LingerAsync()
    {
        try
        {
            await GracefulClose.LingerAsync(_context, _bytesFlushed, _services);
        }
#pragma warning disable CA1031 // Every answer is out: a failure here is reported and the connection dropped.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Fail(ex);
        }
    }

    /// <summary>
    /// A failure that is a bug of ours, not the client's doing: logged once per connection at Error, with the
    /// connection id; the connection is dropped and the write loop drains the slots without writing.
    /// </summary>
    private void Fail(Exception exception)
    {
        if (Interlocked.Exchange(ref _failed, 1) == 0)
        {
            LogUnexpectedFailure(_services.Logger, ConnectionId, exception);
        }

        _context.Abort(new ConnectionAbortedException("The server failed unexpectedly.", exception));
        CloseOutput();
    }

    /// <summary>The client can no longer receive: stop reading, cancel handlers, and let the write loop drain silently.</summary>
    private void CloseOutput()
    {
        if (_outputClosed)
        {
            return;
        }

        _outputClosed = true;
        _aborted.Cancel();
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
