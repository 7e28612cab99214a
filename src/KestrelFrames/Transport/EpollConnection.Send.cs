using Microsoft.AspNetCore.Connections;

namespace KestrelFrames.Transport;

internal sealed partial class EpollConnection
{
    public async Task<bool> CloseOutputAsync(CancellationToken deadline)
    {
        _output.Complete();
        try
        {
            await _output.Ended.WaitAsync(deadline);
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// The output is over, once: <paramref name="finished"/> when the writer completed and every byte is in the
    /// kernel (then a FIN follows it), not when the connection aborted or broke. A broken connection is the input's
    /// news: the loop reads the reset and completes the input with it.
    /// </summary>
    internal void SendEnded(bool finished, bool broken)
    {
        if (finished)
        {
            try
            {
                // The receiving side stays open for the linger.
                _ = Libc.Shutdown(_handle, Libc.SHUT_WR);
            }
            catch (ObjectDisposedException)
            {
                // Closed meanwhile: nothing left to end.
            }
        }

        if (broken)
        {
            _loop.Post(s_receiveNow, this);
        }

        DirectionEnded();
    }
}
