using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using KestrelFrames.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Connections;

/// <summary>
/// Outermost on the Frames endpoint, before TLS: reads a PROXY protocol header from a trusted balancer and makes
/// the client's address the connection's RemoteEndPoint, which the limits, the logs
/// and the traces then use. Bytes that are not a header are left unread for the frame handler.
/// </summary>
internal sealed partial class ProxyProtocolMiddleware
{
    private readonly ConnectionDelegate _next;
    private readonly FrameServices _services;
    private readonly ProxyProtocolOptions _options;
    private readonly TrustedProxies _trusted;

    public ProxyProtocolMiddleware(ConnectionDelegate next, FrameServices services, IOptions<FrameServerOptions> options)
    {
        _next = next;
        _services = services;
        _options = options.Value.ProxyProtocol;
        _trusted = new TrustedProxies(_options.TrustedProxies);
    }

    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        bool trusted = connection.RemoteEndPoint is IPEndPoint peer && _trusted.Contains(peer.Address);
        ProxyRejection? rejection = trusted || _options.Mode != ProxyProtocolMode.Required
            ? await ReadHeaderAsync(connection, trusted)
            : ProxyRejection.Untrusted;
        if (rejection is { } reason)
        {
            // No status frame, but a clean close: the peer is a balancer or someone pretending to be one.
            _services.Metrics.ProxyRejected(reason);
            if (_services.ProxyRejections.TryEnter())
            {
                LogRejected(_services.Logger, connection.ConnectionId, connection.RemoteEndPoint, reason);
            }

            await GracefulClose.LingerRefusedAsync(connection, bytesFlushed: 0, _services);
            return;
        }

        await _next(connection);
    }

    /// <summary>Returns why the connection must be closed, or null to go on (with the client's address set, if sent).</summary>
    private async Task<ProxyRejection?> ReadHeaderAsync(ConnectionContext connection, bool trusted)
    {
        PipeReader input = connection.Transport.Input;
        // HeaderTimeout follows the configuration; Mode and TrustedProxies are the endpoint's, fixed when it bound.
        using var timeout = new CancellationTokenSource(_services.Options.ProxyProtocol.HeaderTimeout, _services.Time);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                // Nothing arrived in time. Direct clients speak first too, so only Required mode minds.
                return _options.Mode == ProxyProtocolMode.Required ? ProxyRejection.Timeout : null;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.IsEmpty && result.IsCompleted)
            {
                // Closed before sending a byte: a TCP probe, which the frame handler counts as one.
                input.AdvanceTo(buffer.Start);
                return null;
            }

            switch (ProxyProtocolParser.TryParse(ref buffer, out ProxyHeader header))
            {
                case ProxyParseResult.Incomplete when !result.IsCompleted:
                    input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                    continue;
                case ProxyParseResult.Incomplete:
                    input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                    return ProxyRejection.Malformed;
                case ProxyParseResult.NotProxy:
                    // Consume and examine nothing: the frame handler's first read sees these same bytes at once.
                    input.AdvanceTo(result.Buffer.Start);
                    return trusted && _options.Mode == ProxyProtocolMode.Required ? ProxyRejection.Missing : null;
                case ProxyParseResult.Invalid:
                    input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                    return ProxyRejection.Malformed;
                default:
                    input.AdvanceTo(buffer.Start);
                    if (!trusted)
                    {
                        return ProxyRejection.Untrusted;
                    }

                    if (header.Source is not null)
                    {
                        connection.RemoteEndPoint = header.Source;
                    }

                    if (header.Tlvs is { Count: > 0 } tlvs)
                    {
                        connection.Features.Set(new ProxyTlvFeature(tlvs));
                    }

                    return null;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frame connection {ConnectionId} from {RemoteEndPoint} closed: PROXY protocol {Reason}.")]
    private static partial void LogRejected(ILogger logger, string connectionId, EndPoint? remoteEndPoint, ProxyRejection reason);
}
