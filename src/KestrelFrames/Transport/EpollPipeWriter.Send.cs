using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KestrelFrames.Transport;

internal sealed partial class EpollPipeWriter
{
    // More blocks than this in one flush go out in more than one sendmsg.
    private const int MaxVectors = 16;

    /// <summary>
    /// Sends what is flushed until all of it is out or the socket is full, then settles what that decided (a waiting
    /// flush, the end). Runs with <see cref="_sending"/> set, on one thread at a time.
    /// </summary>
    private void SendPending()
    {
        while (true)
        {
            OutputSegment head;
            int offset;
            long count;
            lock (_lock)
            {
                if (_aborted || _sent == _flushed)
                {
                    _sending = false;
                    FreeSentUnsynchronized(all: false);
                    break;
                }

                head = _head!;
                offset = _headSent;
                count = _flushed - _sent;
            }

            long sent;
            try
            {
                sent = Send(head, offset, count);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // Broken (the input reads the reset) or closed by an abort meanwhile.
                lock (_lock)
                {
                    _broken = true;
                    _sending = false;
                }

                break;
            }

            if (sent == 0)
            {
                lock (_lock)
                {
                    _sending = false;
                    _waitingForWritable = !_aborted;
                }

                // Level-triggered: if room appeared before this watch, epoll reports it at once, so nothing is missed.
                _connection.UpdateInterest();
                break;
            }

            lock (_lock)
            {
                ConsumeUnsynchronized(sent);
            }
        }

        Settle();
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
                    vectors[vectorCount++] = new Libc.IoVector { Base = (byte*)pins[vectorCount - 1].Pointer + offset, Length = (nuint)length };
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

    [InlineArray(MaxVectors)]
    private struct Pins
    {
        private MemoryHandle _first;
    }
}
