using System.Net.Sockets;
using System.Security.Authentication;

namespace KestrelFrames.Soak;

/// <summary>Names what broke a connection, for the outcome counts: "reset", "refused", "tls", "timeout", ...</summary>
internal static class ExceptionLabels
{
    /// <summary>What a network client can meet: the clients turn these into outcomes, anything else is a bug of the tool.</summary>
    public static bool IsConnectionFailure(Exception exception) =>
        exception is IOException or SocketException or AuthenticationException or OperationCanceledException or ProtocolViolationException or ObjectDisposedException;

    public static string Of(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted }:
                    return "reset";
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return "refused";
                case SocketException socket:
                    return "socket-" + socket.SocketErrorCode;
                case AuthenticationException:
                    return "tls";
                case OperationCanceledException:
                    return "timeout";
                case ProtocolViolationException:
                    return "protocol";
            }
        }

        return exception is EndOfStreamException ? "eof" : "io";
    }

    /// <summary>Whether the peer reset the connection (or the write hit a connection it had already reset).</summary>
    public static bool IsReset(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One line for the report: the label, the exception's type and message.</summary>
    public static string Describe(Exception exception) =>
        $"{exception.GetType().Name}: {exception.Message}" + (exception.InnerException is { } inner ? $" ({inner.GetType().Name}: {inner.Message})" : "");
}
