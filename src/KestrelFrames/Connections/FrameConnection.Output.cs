using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using KestrelFrames.Processing;
using Microsoft.AspNetCore.Connections;

namespace KestrelFrames.Connections;

/// <summary>
/// The output side of a frame connection: the write loop that answers in request order, its flushes, the graceful
/// close after a closing status, and what happens when the server itself fails.
/// </summary>
internal sealed partial class FrameConnection
{
    // Kestrel's default MaxWriteBufferSize: unflushed answers past it are flushed even while more are ready.
    private const long FlushEveryBytes = 64 * 1024;

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

                // Answers that keep coming ready would otherwise never be flushed, and a client that sends nonstop but
                // never reads would grow the output without bound: only a flush meets the transport's backpressure.
                if (unflushed >= FlushEveryBytes)
                {
                    await FlushAsync(output, unflushed);
                    unflushed = 0;
                }

                if (slot.Kind == FrameSlotKind.Request)
                {
                    _services.Metrics.RequestAnswered(slot.Status, slot.RateLimited, _services.Time.GetElapsedTime(slot.ReceivedTimestamp));
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
            LogWriteFailed(_services.Logger, ConnectionId, RemoteEndPoint, ex.Message);
            CloseOutput();
        }
#pragma warning disable CA1031 // Anything else is a bug: reported once, and the write loop goes on draining.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Fail(ex);
        }
    }

    private Task LingerAsync() => EndAsync(GracefulClose.LingerAsync);

    private Task FinishAsync() => EndAsync(GracefulClose.FinishAsync);

    private async Task EndAsync(Func<ConnectionContext, long, FrameServices, Task> end)
    {
        try
        {
            await end(_context, _bytesFlushed, _services);
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
            LogUnexpectedFailure(_services.Logger, ConnectionId, RemoteEndPoint, exception);
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
}
