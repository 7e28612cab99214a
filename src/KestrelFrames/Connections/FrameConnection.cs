using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using KestrelFrames.Hosting;
using KestrelFrames.Observability;
using KestrelFrames.Processing;
using KestrelFrames.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Connections;

/// <summary>
/// One frame connection: a read loop that parses frames straight from the transport and hands requests to the
/// worker pool, and a write loop that answers them in request order. The two meet only in the
/// <see cref="ResponseQueue"/>, whose capacity is the connection's in-flight limit.
/// </summary>
internal sealed partial class FrameConnection : IDisposable
{
    private readonly ConnectionContext _context;
    private readonly FrameServices _services;
    private readonly ResponseQueue _queue;
    private readonly CancellationTokenSource _aborted = new();
    private volatile bool _closeRequested;
    private volatile bool _outputClosed;

    public FrameConnection(ConnectionContext context, FrameServices services)
    {
        _context = context;
        _services = services;
        _queue = new ResponseQueue(this, services.Options.MaxInFlightPerConnection);
    }

    public string ConnectionId => _context.ConnectionId;

    public EndPoint? RemoteEndPoint => _context.RemoteEndPoint;

    /// <summary>Cancelled when the client can no longer receive answers: handlers may stop early.</summary>
    public CancellationToken Aborted => _aborted.Token;

    public async Task RunAsync()
    {
        _services.Metrics.ConnectionOpened();
        LogConnectionOpened(_services.Logger, ConnectionId, RemoteEndPoint);

        // Kestrel cancels this at shutdown. A client FIN fires ConnectionClosed instead, which must not stop the
        // work in flight: the client may still be reading.
        using CancellationTokenRegistration closeRequested = _context.Features.Get<IConnectionLifetimeNotificationFeature>()
            ?.ConnectionClosedRequested.UnsafeRegister(static state => ((FrameConnection)state!).RequestClose(), this) ?? default;
        try
        {
            Task writing = WriteLoopAsync();
            try
            {
                await ReadLoopAsync();
            }
            finally
            {
                _queue.Complete();
            }

            // The write loop always drains the queue, so every slot's buffers are back in the pool when this returns.
            await writing;
        }
        finally
        {
            _services.Metrics.ConnectionClosed();
            LogConnectionClosed(_services.Logger, ConnectionId);
        }
    }

    public void Dispose() => _aborted.Dispose();

    private void RequestClose()
    {
        _closeRequested = true;
        _context.Transport.Input.CancelPendingRead();
    }

    private async Task ReadLoopAsync()
    {
        PipeReader input = _context.Transport.Input;
        int maxFrameSize = _services.Options.MaxFrameSize;
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
                return;
            }

            if (_outputClosed)
            {
                return;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            long receivedAt = _services.Time.GetTimestamp();
            while (!_closeRequested)
            {
                FrameParseResult parsed = FrameParser.TryParse(ref buffer, maxFrameSize, out ReadOnlySequence<byte> payload);
                if (parsed == FrameParseResult.Incomplete)
                {
                    break;
                }

                if (parsed != FrameParseResult.Frame)
                {
                    final = parsed == FrameParseResult.FrameTooLarge ? FrameStatus.FrameTooLarge : FrameStatus.ProtocolError;
                    LogProtocolError(_services.Logger, ConnectionId, RemoteEndPoint, final.Value);
                    break;
                }

                if (!_queue.TryReserve(out FrameWorkItem slot))
                {
                    slot = await WaitForSlotAsync();
                }

                if (payload.IsEmpty)
                {
                    slot.SetHeartbeat();
                    _queue.Publish();
                    continue;
                }

                slot.SetRequest(payload, receivedAt);
                _queue.Publish();
                if (!_services.Pool.TrySubmit(slot))
                {
                    await SubmitWhenFullAsync(slot);
                }
            }

            // Everything parsed is consumed; the rest is examined, so the next read waits for new bytes.
            input.AdvanceTo(buffer.Start, buffer.End);
            if (_closeRequested)
            {
                final ??= FrameStatus.ShuttingDown;
            }
            else if (result.IsCompleted)
            {
                // The client half-closed: answer what it sent, then close. A partial frame is dropped.
                return;
            }
        }

        if (!_queue.TryReserve(out FrameWorkItem last))
        {
            last = await WaitForSlotAsync();
        }

        last.SetStatus(final.Value);
        _queue.Publish();
    }

    private async ValueTask<FrameWorkItem> WaitForSlotAsync()
    {
        FrameWorkItem slot;
        while (!_queue.TryReserve(out slot))
        {
            await _queue.WaitForReleaseAsync();
        }

        return slot;
    }

    private async ValueTask SubmitWhenFullAsync(FrameWorkItem slot)
    {
        if (_services.Options.OverloadMode == OverloadMode.Shed)
        {
            slot.Complete(FrameStatus.Busy);
            return;
        }

        // Backpressure: this loop stops reading until the pool has room, and TCP pushes back on the client.
        do
        {
            if (!await _services.Pool.WaitForSpaceAsync(CancellationToken.None))
            {
                slot.Complete(FrameStatus.Busy);
                return;
            }
        }
        while (!_services.Pool.TrySubmit(slot));
    }

    private async Task WriteLoopAsync()
    {
        PipeWriter output = _context.Transport.Output;
        bool unflushed = false;
        while (true)
        {
            if (!_queue.TryPeek(out FrameWorkItem slot))
            {
                // Flush once per batch of ready answers, then look again: more may have arrived meanwhile.
                if (unflushed)
                {
                    await FlushAsync(output);
                    unflushed = false;
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
                if (unflushed)
                {
                    await FlushAsync(output);
                    unflushed = false;
                }

                await slot.WaitAsync();
            }

            bool final = slot.Kind == FrameSlotKind.Status;
            if (!_outputClosed)
            {
                slot.WriteAnswer(output);
                unflushed = true;
            }

            if (slot.Kind == FrameSlotKind.Request)
            {
                _services.Metrics.RequestAnswered(slot.Status, _services.Time.GetElapsedTime(slot.ReceivedTimestamp));
            }

            _queue.Release();
            if (final)
            {
                break;
            }
        }

        if (unflushed)
        {
            await FlushAsync(output);
        }
    }

    private async ValueTask FlushAsync(PipeWriter output)
    {
        if (_outputClosed)
        {
            return;
        }

        try
        {
            FlushResult result = await output.FlushAsync();
            if (result.IsCompleted || result.IsCanceled)
            {
                CloseOutput();
            }
        }
        catch (Exception ex) when (ex is IOException or ConnectionAbortedException or ConnectionResetException or InvalidOperationException)
        {
            LogWriteFailed(_services.Logger, ConnectionId, ex.Message);
            CloseOutput();
        }
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame connection {ConnectionId} opened from {RemoteEndPoint}.")]
    private static partial void LogConnectionOpened(ILogger logger, string connectionId, EndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame connection {ConnectionId} closed.")]
    private static partial void LogConnectionClosed(ILogger logger, string connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frame connection {ConnectionId} from {RemoteEndPoint}: {Status}; closing.")]
    private static partial void LogProtocolError(ILogger logger, string connectionId, EndPoint? remoteEndPoint, FrameStatus status);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame connection {ConnectionId}: read failed: {Reason}.")]
    private static partial void LogReadFailed(ILogger logger, string connectionId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame connection {ConnectionId}: write failed: {Reason}.")]
    private static partial void LogWriteFailed(ILogger logger, string connectionId, string reason);
}
