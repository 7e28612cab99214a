using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KestrelFrames.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Connections;

/// <summary>
/// Ends a connection the server chose to end (its last frame already flushed) without a reset, as nginx's
/// <c>lingering_close</c> does: half-close, then read and discard until the client closes or
/// <c>Frames:LingerTimeout</c> passes. Closing a socket with unread input, or receiving after Kestrel's
/// <c>Shutdown(Both)</c>, makes the kernel reset the connection, and the client's kernel then drops the answers it
/// had not read yet. Returning from here lets Kestrel close the socket with nothing left unread.
/// </summary>
internal static partial class GracefulClose
{
    // How often to look again whether Kestrel's send loop has handed everything to the kernel; it nearly always
    // has by the first look, because with inline scheduling the flush itself ran the send.
    private static readonly TimeSpan s_sentPoll = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// As <see cref="LingerAsync"/>, for a connection refused before it was counted (a limit, a PROXY rejection): only
    /// a tenth of MaxConnections of these linger at once, so a flood of refused clients that never close cannot hold
    /// descriptors without bound. Beyond that they close at once, as they did before lingering existed.
    /// </summary>
    public static async Task LingerRefusedAsync(ConnectionContext connection, long bytesFlushed, FrameServices services)
    {
        if (!services.TryBeginRefusedLinger())
        {
            return;
        }

        try
        {
            await LingerAsync(connection, bytesFlushed, services);
        }
        finally
        {
            services.EndRefusedLinger();
        }
    }

    /// <param name="connection">The connection, its last frame flushed; nothing more is written to it.</param>
    /// <param name="bytesFlushed">Every byte flushed on <paramref name="connection"/> since it opened.</param>
    /// <param name="services">The linger timeout, the clock and the log.</param>
    public static async Task LingerAsync(ConnectionContext connection, long bytesFlushed, FrameServices services)
    {
        TimeSpan linger = services.Options.LingerTimeout;
        if (linger <= TimeSpan.Zero)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(linger, services.Time);
        Task<bool?> finSent = SendFinWhenSentAsync(connection, bytesFlushed, services.Time, deadline.Token);
        await DiscardInputAsync(connection.Transport.Input, deadline.Token);

        if (await finSent == false)
        {
            // Answers still sit in the transport after the whole linger: the client is not reading them, as at a
            // write timeout. Without an abort the transport would hold the connection until it reads.
            LogAnswersNotTaken(services.Logger, connection.ConnectionId, connection.RemoteEndPoint);
            connection.Abort(new ConnectionAbortedException("The client did not take its last answers within LingerTimeout."));
        }
    }

    /// <summary>
    /// Ends a connection the client ended (it closed its side and every request is answered): the last answers must
    /// leave within <c>Frames:WriteTimeout</c>, as every flush must, then the server half-closes. They may all be in the
    /// transport already, with no flush left waiting that the write timeout would watch, and a client that keeps
    /// its socket open without reading would otherwise hold them, and the connection, forever.
    /// </summary>
    /// <param name="connection">The connection, its last answer flushed; nothing more is written to it.</param>
    /// <param name="bytesFlushed">Every byte flushed on <paramref name="connection"/> since it opened.</param>
    /// <param name="services">The write timeout, the clock and the log.</param>
    public static async Task FinishAsync(ConnectionContext connection, long bytesFlushed, FrameServices services)
    {
        using var deadline = new CancellationTokenSource(services.Options.WriteTimeout, services.Time);
        if (await SendFinWhenSentAsync(connection, bytesFlushed, services.Time, deadline.Token) == false)
        {
            LogAnswersNotTaken(services.Logger, connection.ConnectionId, connection.RemoteEndPoint);
            connection.Abort(new ConnectionAbortedException("The client did not take its last answers within WriteTimeout."));
        }
    }

    /// <summary>Reads and drops input until the client closes its side, the connection breaks or the deadline passes.</summary>
    private static async Task DiscardInputAsync(PipeReader input, CancellationToken deadline)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(deadline);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or ConnectionAbortedException or ConnectionResetException)
            {
                return;
            }

            // Consumed, not only examined: the transport returns the blocks, so a lingering client holds no memory.
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }

            // A cancelled read (Kestrel asking every connection to close at shutdown) changes nothing: keep lingering.
        }
    }

    /// <summary>
    /// Half-closes once every flushed byte is in the kernel, so the client reads a clean end of stream while the
    /// server still reads what it sends. True: the FIN went out (or the connection broke meanwhile); false: flushed
    /// bytes were still unsent when the deadline passed; null: the kernel's count cannot tell (TLS, not Linux).
    /// </summary>
    private static async Task<bool?> SendFinWhenSentAsync(ConnectionContext connection, long bytesFlushed, TimeProvider time, CancellationToken deadline)
    {
        // Over TLS the flushed bytes are not the socket's, and a bare FIN would cut the TLS stream: the FIN comes
        // when the linger ends, with Kestrel's close.
        if (connection.Features.Get<ITlsHandshakeFeature>() is not null)
        {
            return null;
        }

        // The epoll transport half-closes by itself once its output is complete and sent.
        if (connection.Features.Get<IConnectionHalfCloseFeature>() is { } halfClose)
        {
            return await halfClose.CloseOutputAsync(deadline);
        }

        if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            return null;
        }

        while (true)
        {
            if (!TcpInfo.TryGetBytesWritten(socket, out long written))
            {
                return null;
            }

            if (written >= bytesFlushed)
            {
                try
                {
                    socket.Shutdown(SocketShutdown.Send);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    // Reset or closed meanwhile: nothing left to end gracefully.
                }

                return true;
            }

            try
            {
                await Task.Delay(s_sentPoll, time, deadline);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame connection {ConnectionId} from {RemoteEndPoint}: the client did not take its last answers in time; aborting.")]
    private static partial void LogAnswersNotTaken(ILogger logger, string connectionId, EndPoint? remoteEndPoint);
}
