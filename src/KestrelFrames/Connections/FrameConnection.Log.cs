using System.Net;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Connections;

internal sealed partial class FrameConnection
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame connection {ConnectionId} opened from {RemoteEndPoint}.")]
    private static partial void LogConnectionOpened(ILogger logger, string connectionId, EndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame connection {ConnectionId} from {RemoteEndPoint} closed (received data: {ReceivedAny}).")]
    private static partial void LogConnectionClosed(ILogger logger, string connectionId, EndPoint? remoteEndPoint, bool receivedAny);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frame connection {ConnectionId} from {RemoteEndPoint}: {Status}; closing.")]
    private static partial void LogClientFault(ILogger logger, string connectionId, EndPoint? remoteEndPoint, FrameStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frame connection {ConnectionId} from {RemoteEndPoint}: write timeout, the client is not reading its answers; aborting.")]
    private static partial void LogWriteTimeout(ILogger logger, string connectionId, EndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frame connection {ConnectionId} from {RemoteEndPoint}: over its client's rate of {RequestsPerSecond} requests a second; answering Busy (rate limit) while it stays over (logged once per connection).")]
    private static partial void LogRateLimited(ILogger logger, string connectionId, EndPoint? remoteEndPoint, int requestsPerSecond);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame connection {ConnectionId} from {RemoteEndPoint}: the application requested the close; answering what was read, then ShuttingDown.")]
    private static partial void LogCloseRequested(ILogger logger, string connectionId, EndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame connection {ConnectionId} from {RemoteEndPoint}: idle timeout; closing.")]
    private static partial void LogIdle(ILogger logger, string connectionId, EndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame connection {ConnectionId} from {RemoteEndPoint}: read failed: {Reason}.")]
    private static partial void LogReadFailed(ILogger logger, string connectionId, EndPoint? remoteEndPoint, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Frame connection {ConnectionId} from {RemoteEndPoint}: unexpected failure; aborting the connection.")]
    private static partial void LogUnexpectedFailure(ILogger logger, string connectionId, EndPoint? remoteEndPoint, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Frame connection {ConnectionId} from {RemoteEndPoint}: the application's {Hook} failed.")]
    private static partial void LogLifecycleFailed(ILogger logger, string connectionId, EndPoint? remoteEndPoint, string hook, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame connection {ConnectionId} from {RemoteEndPoint}: write failed: {Reason}.")]
    private static partial void LogWriteFailed(ILogger logger, string connectionId, EndPoint? remoteEndPoint, string reason);
}
