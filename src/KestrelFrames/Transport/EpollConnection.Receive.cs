using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace KestrelFrames.Transport;

internal sealed partial class EpollConnection
{
    private enum ReceiveState
    {
        Receiving,
        // The input pipe is full: not watched for input until the application has read some.
        Paused,
        Done,
    }

    // Below this much room in the pipe's current block, a receive takes a fresh block instead.
    private const int MinimumReceiveSize = 2048;

    // Read at most this much per epoll report before the loop serves its other connections.
    private const long MaxReceivePerReport = 256 * 1024;

    private static readonly Action<object?> s_receiveNow = static state => ((EpollConnection)state!).ReceiveOnce();
    private static readonly Action<object?> s_resume = static state => ((EpollConnection)state!).ResumeReceiving();
    private static readonly Action<object?> s_stopReceiving = static state => ((EpollConnection)state!).EndReceive(null);

    private volatile ReceiveState _receiveState;

    /// <summary>The input is full and the socket not watched for input: what a test of the backpressure waits for.</summary>
    internal bool ReceivePaused => _receiveState == ReceiveState.Paused;

    /// <summary>On the loop's thread, for EPOLLIN, EPOLLRDHUP, EPOLLHUP or EPOLLERR.</summary>
    private void OnReadable(uint events)
    {
        switch (_receiveState)
        {
            case ReceiveState.Receiving:
                ReceiveOnce();
                break;
            case ReceiveState.Done or ReceiveState.Paused when (events & (Libc.EPOLLHUP | Libc.EPOLLERR)) != 0:
                // Level-triggered epoll reports a hang-up or an error whatever the mask, so a socket left registered
                // would wake the loop on every wait. A paused connection reads the rest when it resumes; a send waiting
                // for room would wait for good, so it tries now and meets the error.
                StopWatching();
                _output.OnWritable();
                break;
        }
    }

    /// <summary>
    /// Receives what epoll reported, on the loop's thread, then hands it to the application with one flush. The
    /// block is taken from the pipe only now, with data known to be there: an idle connection holds none. A short
    /// recv drained the socket. A full one (a burst larger than the block's room) may have left more: the kernel's
    /// count (FIONREAD) says how much, and the next recv asks a block of that size, so a burst is read in one report
    /// and parsed as whole frames, yet no block is ever taken for a recv that would find nothing. Level-triggered
    /// epoll reports the socket again if more than <see cref="MaxReceivePerReport"/> is waiting, so one busy
    /// connection does not starve the others on its loop.
    /// </summary>
    private unsafe void ReceiveOnce()
    {
        if (_receiveState != ReceiveState.Receiving)
        {
            return;
        }

        if (_aborted)
        {
            EndReceive(AbortError());
            return;
        }

        int sizeHint = MinimumReceiveSize;
        long total = 0;
        nint received;
        int errno = 0;
        while (true)
        {
            Memory<byte> memory = _input.GetWriteMemory(sizeHint);
            fixed (byte* buffer = memory.Span)
            {
                received = Libc.Receive(_handle, buffer, (nuint)memory.Length, 0);
            }

            // Read before anything else runs on this thread: the input's bookkeeping may return a block.
            errno = received < 0 ? Marshal.GetLastPInvokeError() : 0;
            _input.AdvanceWrite(received > 0 ? (int)received : 0);
            if (received <= 0)
            {
                break;
            }

            total += received;
            if (received < memory.Length || total >= MaxReceivePerReport || BytesWaiting() is not (> 0 and var waiting))
            {
                break;
            }

            sizeHint = Math.Min(waiting, MemoryPool.MaxBufferSize);
        }

        if (total > 0)
        {
            // An end of stream or an error right behind the data is still there for the next report to find.
            Deliver();
            return;
        }

        if (received == 0)
        {
            EndReceive(_aborted ? AbortError() : null);
            return;
        }

        if (errno is Libc.EAGAIN or Libc.EINTR)
        {
            return;
        }

        EndReceive(_aborted ? AbortError() : SocketError("recv", errno));
    }

    /// <summary>Bytes the kernel holds for this socket now (FIONREAD); 0 when it cannot tell.</summary>
    private int BytesWaiting()
    {
        try
        {
            return _socket.Available;
        }
        catch (SocketException)
        {
            // Broken meanwhile: the next report's recv returns the error.
            return 0;
        }
    }

    private void Deliver()
    {
        // The application's read loop resumes inline: it parses what arrived right here, on this thread.
        switch (_input.Publish())
        {
            case InputFlush.Paused:
                _receiveState = ReceiveState.Paused;
                UpdateInterest();
                break;
            case InputFlush.ReaderDone:
                EndReceive(null);
                break;
            default:
                if (!_registered)
                {
                    // Resumed after a hang-up while paused: epoll no longer reports this socket, so read on by hand.
                    _loop.Post(s_receiveNow, this);
                }

                break;
        }
    }

    /// <summary>
    /// From the reader, on its thread: a paused input was consumed below the resume threshold, or the application
    /// stopped reading. The loop acts on it, after the report it may be in the middle of.
    /// </summary>
    internal void InputHasRoom(bool readerDone) => _loop.Post(readerDone ? s_stopReceiving : s_resume, this);

    private void ResumeReceiving()
    {
        if (_receiveState != ReceiveState.Paused)
        {
            return;
        }

        _receiveState = ReceiveState.Receiving;
        UpdateInterest();
        if (!_registered)
        {
            ReceiveOnce();
        }
    }

    /// <summary>The input is over: end of stream, an error, an abort, or the application stopped reading.</summary>
    private void EndReceive(Exception? error)
    {
        if (_receiveState == ReceiveState.Done)
        {
            return;
        }

        _receiveState = ReceiveState.Done;
        _input.CompleteWriting(error);
        UpdateInterest();
        DirectionEnded();
    }
}
