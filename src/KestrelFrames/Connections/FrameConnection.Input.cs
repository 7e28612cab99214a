using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using KestrelFrames.Processing;
using KestrelFrames.Protocol;
using Microsoft.AspNetCore.Connections;

namespace KestrelFrames.Connections;

/// <summary>
/// The input side of a frame connection: the read loop that parses frames straight from the transport, takes
/// their budget and slots, applies the overload policy and hands each read's requests to the worker pool.
/// </summary>
internal sealed partial class FrameConnection
{
    /// <summary>Reads and dispatches until the connection ends; returns the closing status of ours it ends with, if any.</summary>
    private async Task<FrameStatus?> ReadLoopAsync()
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
                LogReadFailed(_services.Logger, ConnectionId, RemoteEndPoint, ex.Message);
                CloseOutput();
                return null;
            }

            if (_outputClosed)
            {
                return null;
            }

            if (result.IsCanceled && CloseReason is { } reason)
            {
                final = reason;
                input.AdvanceTo(result.Buffer.Start);
                break;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            _receivedAnyBytes |= !buffer.IsEmpty;
            final = await ParseAndDispatchAsync(buffer);
            if (final is null && result.IsCompleted)
            {
                // The client half-closed: answer everything it sent, then close. A partial frame is dropped.
                return null;
            }
        }

        _ending = true;
        if (!_queue.TryReserve(out FrameWorkItem last))
        {
            last = await WaitForSlotAsync();
        }

        last.SetStatus(final.Value);
        _queue.Publish();
        return final;
    }

    /// <summary>
    /// Dispatches every complete frame in <paramref name="buffer"/> and advances the reader once for the batch.
    /// Returns the status that ends the connection, if this batch ends it.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FrameStatus?> ParseAndDispatchAsync(ReadOnlySequence<byte> buffer)
    {
        PipeReader input = _context.Transport.Input;

        // One snapshot per read: a reload reaches every connection at its next read, never mid-batch.
        FrameServerOptions options = _services.Options;
        int maxFrameSize = options.MaxFrameSize;
        long now = _services.Time.GetTimestamp();
        long received = buffer.Length;
        bool parsedAny = false;
        FrameStatus? final = null;
        while (final is null && !CloseRequested)
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

            // A fresh timestamp, not the read's: this loop may have waited for a slot since, and an old one would
            // count the client's tokens short.
            if (_rate is not null && !_rate.TryAcquireRequest(_services.Time.GetTimestamp()))
            {
                RejectOverRate(slot, now);
                continue;
            }

            long length = payload.Length;
            bool reserved = _pendingFrameReservation == length || _services.Budget.TryReserve(length);
            _pendingFrameReservation = 0;
            if (!reserved)
            {
                if (options.OverloadMode == OverloadMode.Shed)
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
            if (_laneBatches is null)
            {
                _batch.Append(slot);
            }
            else
            {
                int lane = _services.Pool.Router!.Route(payload);
                slot.Lane = lane;
                _laneBatches[lane].Append(slot);
            }
        }

        await SubmitBatchAsync();

        // Everything parsed is consumed; the rest is examined, so the next read waits for new bytes.
        _services.Metrics.BytesReceived(received - buffer.Length);
        input.AdvanceTo(buffer.Start, buffer.End);
        _timeouts.AfterRead(now, partialFrameLeft: !buffer.IsEmpty, parsedAny);
        return CloseRequested ? FrameStatus.ShuttingDown : final;
    }

    /// <summary>
    /// Answers a request over its client's rate Busy ("rate limit") in its place in the answer order, as Shed mode's
    /// Busy is: not copied, not run. Logged once per connection (throttled), not per request: a client over its rate
    /// usually stays over it, and /metrics counts every one.
    /// </summary>
    private void RejectOverRate(FrameWorkItem slot, long now)
    {
        // The bytes reserved for this frame while it was arriving go back: it will not be copied.
        if (_pendingFrameReservation > 0)
        {
            _services.Budget.Release(_pendingFrameReservation);
            _pendingFrameReservation = 0;
        }

        slot.SetRateLimited(now);
        _queue.Publish();
        if (!_rateLimitLogged)
        {
            _rateLimitLogged = true;
            if (_services.RateLimits.TryEnter())
            {
                LogRateLimited(_services.Logger, ConnectionId, RemoteEndPoint, _services.Options.RateLimit.RequestsPerSecond);
            }
        }
    }

    /// <summary>
    /// Hands the requests parsed so far to the pool as one work item (Garnet's batching): one queue operation per
    /// read instead of one per request. Each request keeps its own slot, outcome and place in the answer order.
    /// </summary>
    private ValueTask SubmitBatchAsync()
    {
        if (_laneBatches is not null)
        {
            return SubmitLaneBatchesAsync();
        }

        FrameWorkItem? batch = _batch.Take();
        if (batch is null)
        {
            return ValueTask.CompletedTask;
        }

        return _services.Pool.TrySubmit(batch) ? ValueTask.CompletedTask : SubmitWhenFullAsync(batch);
    }

    /// <summary>
    /// With lanes, a read's requests travel as one batch per lane, highest lane first: a full lower lane that applies
    /// backpressure then holds up only what comes after it, never a higher lane's requests of the same read.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SubmitLaneBatchesAsync()
    {
        foreach (int lane in _services.Pool.LanesByPriority)
        {
            FrameWorkItem? batch = _laneBatches![lane].Take();
            if (batch is not null && !_services.Pool.TrySubmit(batch))
            {
                await SubmitWhenFullAsync(batch);
            }
        }
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
        // TryParse has refused a status-bit or oversize header before this, so the length fits an int.
        if (_pendingFrameReservation > 0 || !FrameCodec.TryReadHeader(buffer, out FrameHeader header) || header.PayloadLength == 0)
        {
            return;
        }

        int length = (int)header.PayloadLength;

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
            RequestBatch.CompleteAll(batch, FrameStatus.Busy);
            return;
        }

        // Backpressure: this loop stops reading until the request's lane has room, and TCP pushes back on the client.
        _timeouts.PauseRead();
        do
        {
            if (!await _services.Pool.WaitForSpaceAsync(batch.Lane, CancellationToken.None))
            {
                RequestBatch.CompleteAll(batch, FrameStatus.Busy);
                break;
            }
        }
        while (!_services.Pool.TrySubmit(batch));
        _timeouts.ResumeRead(_services.Time.GetTimestamp());
    }
}
