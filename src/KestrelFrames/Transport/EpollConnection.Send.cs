using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KestrelFrames.Primitives;
using Microsoft.AspNetCore.Connections;

namespace KestrelFrames.Transport;

internal sealed partial class EpollConnection
{
    // More segments than this in one flush go out in more than one sendmsg.
    private const int MaxVectors = 16;

    // Set by the loop when the socket has room again. Inline: the send goes on right there, on the loop's thread.
    private readonly AsyncSignal _writable = new(runContinuationsAsynchronously: false);
    private readonly Task _sending;
    private volatile bool _waitingForWritable;

    public async Task<bool> CloseOutputAsync(CancellationToken deadline)
    {
        _output.Writer.Complete();
        try
        {
            await _sending.WaitAsync(deadline);
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// The send loop. The output pipe's reader is scheduled inline, so this runs on the thread that flushed (usually
    /// the worker or write loop that answered) and the bytes go out within its FlushAsync, with no hand-off. When the
    /// socket buffer is full, the loop's EPOLLOUT resumes it. Completing the output sends the rest, then a FIN.
    /// </summary>
    private async Task SendLoopAsync()
    {
        PipeReader reader = _output.Reader;
        bool finished = false;
        bool broken = false;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync();
                ReadOnlySequence<byte> buffer = result.Buffer;
                while (!buffer.IsEmpty && !_aborted)
                {
                    long sent = SendOnce(buffer);
                    if (sent > 0)
                    {
                        buffer = buffer.Slice(sent);
                    }
                    else
                    {
                        await WaitForWritableAsync();
                    }
                }

                reader.AdvanceTo(result.Buffer.End);
                if (_aborted || result.IsCanceled)
                {
                    break;
                }

                if (result.IsCompleted)
                {
                    finished = true;
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            broken = true;
        }
        finally
        {
            if (finished)
            {
                ShutdownSend();
            }

            // Completed without an error, as Kestrel's socket transport does, whatever ended it: the writer's next flush
            // reports the output as completed. An exception would be thrown at whoever writes next, and over TLS that
            // is Kestrel's TLS layer, which lets it escape as an Error per connection and strands its pipes. A broken
            // connection is the input's news: the loop reads the reset and completes the input with it.
            reader.Complete();
            if (broken)
            {
                _loop.Post(s_receiveNow, this);
            }

            DirectionEnded();
        }
    }

    /// <summary>Bytes sent, or 0 when the socket buffer is full. Throws on a broken connection.</summary>
    private unsafe long SendOnce(in ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            nint sent;
            if (buffer.IsSingleSegment)
            {
                ReadOnlySpan<byte> span = buffer.FirstSpan;
                fixed (byte* bytes = span)
                {
                    sent = Libc.Send(_handle, bytes, (nuint)span.Length, Libc.MSG_NOSIGNAL);
                }
            }
            else
            {
                sent = SendVectors(buffer);
            }

            if (sent >= 0)
            {
                return sent;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EAGAIN)
            {
                return 0;
            }

            if (errno != Libc.EINTR)
            {
                throw SocketError("send", errno);
            }
        }
    }

    private unsafe nint SendVectors(in ReadOnlySequence<byte> buffer)
    {
        Pins pins = default;
        Libc.IoVector* vectors = stackalloc Libc.IoVector[MaxVectors];
        int count = 0;
        try
        {
            foreach (ReadOnlyMemory<byte> segment in buffer)
            {
                if (segment.IsEmpty)
                {
                    continue;
                }

                pins[count] = segment.Pin();
                vectors[count] = new Libc.IoVector { Base = (byte*)pins[count].Pointer, Length = (nuint)segment.Length };
                if (++count == MaxVectors)
                {
                    break;
                }
            }

            Libc.MessageHeader message = new() { Vectors = vectors, VectorCount = (nuint)count };
            return Libc.SendMessage(_handle, &message, Libc.MSG_NOSIGNAL);
        }
        finally
        {
            for (int i = 0; i < count; i++)
            {
                pins[i].Dispose();
            }
        }
    }

    private ValueTask WaitForWritableAsync()
    {
        // Level-triggered: if room appeared before this registration, epoll reports it at once, so nothing is missed.
        _waitingForWritable = true;
        UpdateInterest();
        return _writable.WaitAsync();
    }

    /// <summary>On the loop's thread, for EPOLLOUT.</summary>
    private void OnWritable()
    {
        if (!_waitingForWritable)
        {
            return;
        }

        _waitingForWritable = false;
        UpdateInterest();
        _writable.Set();
    }

    private void ShutdownSend()
    {
        try
        {
            // The last byte is in the kernel: FIN after it. The receiving side stays open for the linger.
            _ = Libc.Shutdown(_handle, Libc.SHUT_WR);
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile: nothing left to end.
        }
    }

    [InlineArray(MaxVectors)]
    private struct Pins
    {
        private MemoryHandle _first;
    }
}
