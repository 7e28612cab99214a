using System.IO.Pipelines;
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

    private static readonly Action<object?> s_receiveNow = static state => ((EpollConnection)state!).ReceiveOnce();
    private static readonly Action<object?> s_resume = static state => ((EpollConnection)state!).ResumeReceiving();
    private static readonly Action<object?> s_stopReceiving = static state => ((EpollConnection)state!).EndReceive(null);

    private volatile ReceiveState _receiveState;

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
                // would wake the loop on every wait. A paused connection reads the rest when it resumes.
                StopWatching();
                break;
        }
    }

    /// <summary>
    /// One recv into the input pipe, on the loop's thread. Level-triggered epoll reports the socket again while
    /// data is left, so one recv per report is enough, and a connection with a lot to read does not starve the
    /// others on its loop. The block is taken from the pipe only now, with data known to be there: an idle
    /// connection holds none.
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

        PipeWriter writer = _input.Writer;
        Memory<byte> memory = writer.GetMemory(MinimumReceiveSize);
        nint received;
        fixed (byte* buffer = memory.Span)
        {
            received = Libc.Receive(_handle, buffer, (nuint)memory.Length, 0);
        }

        if (received > 0)
        {
            writer.Advance((int)received);
            // The application's read loop is scheduled inline: it parses what arrived right here, on this thread.
            ValueTask<FlushResult> flushing = writer.FlushAsync();
            if (!flushing.IsCompleted)
            {
                PauseReceiving(flushing);
            }
            else if (flushing.Result.IsCompleted)
            {
                // The application stopped reading.
                EndReceive(null);
            }
            else if (!_registered)
            {
                // Resumed after a hang-up while paused: epoll no longer reports this socket, so read on by hand.
                _loop.Post(s_receiveNow, this);
            }

            return;
        }

        if (received == 0)
        {
            EndReceive(_aborted ? AbortError() : null);
            return;
        }

        int errno = Marshal.GetLastPInvokeError();
        if (errno is Libc.EAGAIN or Libc.EINTR)
        {
            return;
        }

        EndReceive(_aborted ? AbortError() : SocketError("recv", errno));
    }

    private void PauseReceiving(ValueTask<FlushResult> flushing)
    {
        _receiveState = ReceiveState.Paused;
        UpdateInterest();
        _ = ResumeAfterFlushAsync(flushing);
    }

    // Only under backpressure (a full input pipe), so the task it allocates is not on the steady-state path.
    private async Task ResumeAfterFlushAsync(ValueTask<FlushResult> flushing)
    {
        bool readerDone;
        try
        {
            readerDone = (await flushing).IsCompleted;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or ConnectionAbortedException or OperationCanceledException)
        {
            readerDone = true;
        }

        _loop.Post(readerDone ? s_stopReceiving : s_resume, this);
    }

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
        _input.Writer.Complete(error);
        UpdateInterest();
        DirectionEnded();
    }
}
