using System.Buffers;
using System.IO.Pipelines;

namespace KestrelFrames.Client.Internal;

/// <summary>The read loop: matches each answer to the oldest request written and not yet answered.</summary>
internal sealed partial class FrameConnection
{
    private async Task<ConnectionOutcome> ReadLoopAsync(FrameSession session)
    {
        try
        {
            while (true)
            {
                ReadResult result = await _input.ReadAsync();
                if (result.IsCanceled)
                {
                    // Cancelled by Abort (the client is disposed), or by the write loop after an unexpected failure.
                    Exception? writeError = Volatile.Read(ref _writeError);
                    return _aborted || writeError is null ? ConnectionOutcome.Disposed() : ConnectionOutcome.Dropped(writeError);
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                ConnectionOutcome? outcome = ReadAnswers(ref buffer, session);
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (outcome is not null)
                {
                    return outcome;
                }

                if (result.IsCompleted)
                {
                    return ConnectionOutcome.Dropped(Volatile.Read(ref _writeError));
                }
            }
        }
        catch (Exception ex)
        {
            // Transport failures, and anything unexpected: either way this connection is over, and the session
            // must hear about it rather than hang.
            return ConnectionOutcome.Dropped(ex);
        }
    }

    /// <summary>Matches every whole frame in <paramref name="buffer"/>; returns how the connection ends, if a frame ends it.</summary>
    private ConnectionOutcome? ReadAnswers(ref ReadOnlySequence<byte> buffer, FrameSession session)
    {
        while (true)
        {
            switch (FrameCodec.TryRead(ref buffer, _maxFrameSize, out FrameHeader header, out ReadOnlySequence<byte> payload))
            {
                case FrameReadResult.Incomplete:
                    return null;
                case FrameReadResult.TooLarge:
                    return ConnectionOutcome.AnswerTooLarge(header.PayloadLength, _maxFrameSize);
            }

            FrameResponseStatus status = FrameResponseStatus.Ok;
            if (header.IsStatus)
            {
                if (!FrameCodec.TryReadStatus(payload, out FrameStatus code) || code == 0)
                {
                    return ConnectionOutcome.ProtocolViolation("The server sent a status frame without a status code; the connection was dropped.");
                }

                if (code.IsConnectionEnding())
                {
                    // The server's last frame: it answered everything it processed, and closes now.
                    return ConnectionOutcome.ClosedByServer(code);
                }

                status = (FrameResponseStatus)code;
            }

            if (!TryAnswer(status, payload, session))
            {
                return ConnectionOutcome.ProtocolViolation("The server sent an answer with no request waiting for it; the connection was dropped.");
            }
        }
    }

    private bool TryAnswer(FrameResponseStatus status, in ReadOnlySequence<byte> payload, FrameSession session)
    {
        if (!_inFlight.TryDequeue(out PendingRequest? request))
        {
            return false;
        }

        if (request.Kind == PendingRequestKind.Heartbeat)
        {
            request.Release();
            session.OnHeartbeatAnswered();
            return true;
        }

        if (request.Answer is { } answer)
        {
            AnswerInto(request, answer, status, payload);
        }
        else if (!request.IsCompleted)
        {
            // A request whose caller cancelled still had its answer slot: the answer is read and dropped, uncopied.
            byte[] copy = status == FrameResponseStatus.Ok && !payload.IsEmpty ? payload.ToArray() : [];
            request.TrySetResult(new FrameResponse(status, copy));
        }

        request.Release();
        return true;
    }

    private static void AnswerInto(PendingRequest request, IBufferWriter<byte> answer, FrameResponseStatus status, in ReadOnlySequence<byte> payload)
    {
        // Claimed first: a caller that cancelled has its writer back and must find it untouched.
        if (!request.TryClaimResult())
        {
            return;
        }

        try
        {
            if (status == FrameResponseStatus.Ok && !payload.IsEmpty)
            {
                int length = (int)payload.Length;
                payload.CopyTo(answer.GetSpan(length));
                answer.Advance(length);
            }
        }
#pragma warning disable CA1031 // The caller's writer: whatever it throws fails that request, never the connection.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            request.SetClaimedException(ex);
            return;
        }

        request.SetClaimedResult(new FrameResponse(status, ReadOnlyMemory<byte>.Empty));
    }
}
