using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KestrelFrames.Transport;

internal sealed partial class EpollPipeWriter
{
    // More blocks than this in one flush go out in more than one sendmsg.
    private const int MaxVectors = 16;

    private enum FlushState
    {
        Done,
        Waiting,
        Over,
    }

    /// <summary>
    /// Sends <paramref name="window"/> and then whatever was flushed meanwhile, until all of it is out or the socket
    /// is full, then settles what that decided (a waiting flush, the end) under the same lock as the last count.
    /// Runs with <see cref="_sending"/> taken, on one thread at a time. With <paramref name="flushing"/> (the caller
    /// is FlushAsync), it also says what that flush returns.
    /// </summary>
    private FlushState SendPending(SendWindow window, bool flushing)
    {
        while (true)
        {
            long sent;
            try
            {
                sent = Send(window.Head, window.Offset, window.Count);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // Broken (the input reads the reset) or closed by an abort meanwhile.
                sent = -1;
            }

            bool watch = false;
            FlushState state = FlushState.Done;
            Settlement settlement;
            lock (_lock)
            {
                if (sent > 0)
                {
                    ConsumeUnsynchronized(sent);
                    if (!_aborted && _sent != _flushed)
                    {
                        window = new SendWindow(_head!, _headSent, _flushed - _sent);
                        continue;
                    }

                    FreeSentUnsynchronized(all: false);
                }
                else if (sent == 0)
                {
                    watch = !_aborted;
                    _waitingForWritable = watch;
                }
                else
                {
                    _broken = true;
                }

                _sending = false;
                settlement = SettleUnsynchronized();
                if (flushing)
                {
                    state = FlushStateUnsynchronized();
                }
            }

            if (watch)
            {
                // Level-triggered: if room appeared before this watch, epoll reports it at once, so nothing is missed.
                _connection.UpdateInterest();
            }

            Apply(settlement);
            return state;
        }
    }

    /// <summary>Bytes sent, or 0 when the socket buffer is full. Throws on a broken connection.</summary>
    private unsafe long Send(OutputSegment head, int offset, long count)
    {
        while (true)
        {
            nint sent;
            if (head.End - offset >= count)
            {
                fixed (byte* bytes = head.Memory.Span)
                {
                    sent = Libc.Send(_socket, bytes + offset, (nuint)count, Libc.MSG_NOSIGNAL);
                }
            }
            else
            {
                sent = SendVectors(head, offset, count);
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
                throw EpollConnection.SocketError("send", errno);
            }
        }
    }

    private unsafe nint SendVectors(OutputSegment head, int offset, long count)
    {
        Pins pins = default;
        Libc.IoVector* vectors = stackalloc Libc.IoVector[MaxVectors];
        int vectorCount = 0;
        try
        {
            for (OutputSegment? segment = head; segment is not null && count > 0 && vectorCount < MaxVectors; segment = segment.Next)
            {
                int length = (int)Math.Min(segment.End - offset, count);
                if (length > 0)
                {
                    pins[vectorCount] = segment.Memory.Pin();
                    vectors[vectorCount] = new Libc.IoVector { Base = (byte*)pins[vectorCount].Pointer + offset, Length = (nuint)length };
                    vectorCount++;
                    count -= length;
                }

                offset = 0;
            }

            Libc.MessageHeader message = new() { Vectors = vectors, VectorCount = (nuint)vectorCount };
            return Libc.SendMessage(_socket, &message, Libc.MSG_NOSIGNAL);
        }
        finally
        {
            for (int i = 0; i < vectorCount; i++)
            {
                pins[i].Dispose();
            }
        }
    }

    /// <summary>What one send takes: <see cref="Count"/> flushed bytes from <see cref="Offset"/> into <see cref="Head"/>.</summary>
    private readonly record struct SendWindow(OutputSegment Head, int Offset, long Count);

    /// <summary>What a send or an abort decided, carried out of the lock.</summary>
    private struct Settlement
    {
        public bool ResumeFlush;
        public bool End;
        public FlushResult Result;
    }

    [InlineArray(MaxVectors)]
    private struct Pins
    {
        private MemoryHandle _first;
    }
}
