using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Authentication;

namespace KestrelFrames.Client.Internal;

/// <summary>The write loop: copies queued requests into the pipe a batch at a time, one flush per batch.</summary>
internal sealed partial class FrameConnection
{
    private async Task WriteLoopAsync(FrameSession session)
    {
        RequestOutbox outbox = session.Outbox;
        try
        {
            while (!_closing)
            {
                if (_batch.Count == 0 && !outbox.TryTakeAll(ref _batch))
                {
                    if (!await outbox.WaitAsync())
                    {
                        return;
                    }

                    continue;
                }

                // Everything queued so far goes out with one flush (a very large batch in several).
                long unflushed = 0;
                while (unflushed < FlushThreshold && !_closing && _batch.TryDequeue(out PendingRequest? request))
                {
                    unflushed += Write(request);
                }

                if (unflushed > 0)
                {
                    // Stamped before the flush, so before any answer to this batch can arrive: whoever reacts to an
                    // answer (a caller, or a test advancing a fake clock) never sees an older time.
                    session.OnSent();
                    FlushResult result = await _output.FlushAsync();
                    if (result.IsCanceled || result.IsCompleted)
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception ex)
        {
            Volatile.Write(ref _writeError, ex);
            if (ex is not (IOException or SocketException or ObjectDisposedException or AuthenticationException))
            {
                // Not a transport failure, so the read loop would not notice: end the connection from here.
                _input.CancelPendingRead();
            }

            // A transport failure: the read loop sees it too, after any answers and closing status the server sent
            // first, which must still be read.
        }
    }

    private int Write(PendingRequest request)
    {
        if (!request.TryBeginWrite())
        {
            request.Release(); // Its caller cancelled before it was sent: it never takes an answer slot.
            return 0;
        }

        // Into the answer queue before the bytes can reach the server, so its answer always finds it.
        _inFlight.Enqueue(request);
        int written = FrameCodec.WriteFrame(_output, request.Payload.Span);
        request.EndWrite();
        return written;
    }
}
