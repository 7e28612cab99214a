using System.Collections.Concurrent;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using KestrelFrames.Protocol;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace KestrelFrames.Connections;

/// <summary>
/// The connection as a handler sees it (<see cref="FrameConnectionInfo"/>), and the application's connection hooks.
/// Everything here is read from Kestrel's features when asked, or created on first use, so a handler that asks for
/// nothing costs nothing: the connection holds no more than before.
/// </summary>
internal sealed partial class FrameConnection
{
    private ConcurrentDictionary<object, object?>? _items;
    private volatile bool _writeTimedOut;

    public override string Id => _context.ConnectionId;

    public FrameConnectionInfo Info => this;

    public override IReadOnlyList<ProxyTlv> ProxyTlvs => _context.Features.Get<ProxyTlvFeature>()?.Tlvs ?? [];

    public override X509Certificate2? ClientCertificate => _context.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;

    public override SslProtocols TlsProtocol => _context.Features.Get<ITlsHandshakeFeature>()?.Protocol ?? SslProtocols.None;

    public override IFeatureCollection Features => _context.Features;

    public override ConcurrentDictionary<object, object?> Items
    {
        get
        {
            // Requests of one connection run on several workers at once: the first to ask may race another.
            if (_items is { } items)
            {
                return items;
            }

            var created = new ConcurrentDictionary<object, object?>();
            return Interlocked.CompareExchange(ref _items, created, null) ?? created;
        }
    }

    /// <summary>Runs the application's OnConnectedAsync, if it has one; false when it failed and the connection must close.</summary>
    private async ValueTask<bool> ConnectedAsync(IFrameConnectionLifecycle lifecycle)
    {
        try
        {
            await lifecycle.OnConnectedAsync(this, Aborted);
            return true;
        }
#pragma warning disable CA1031 // The application's code: whatever it throws closes this connection, never the server.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogLifecycleFailed(_services.Logger, ConnectionId, RemoteEndPoint, nameof(IFrameConnectionLifecycle.OnConnectedAsync), ex);
            return false;
        }
    }

    /// <summary>Runs the application's OnClosingAsync once the write loop is done: no handler call of this connection is left.</summary>
    private async ValueTask ClosingAsync(IFrameConnectionLifecycle lifecycle, FrameStatus? final)
    {
        try
        {
            await lifecycle.OnClosingAsync(this, CloseReasonFor(final));
        }
#pragma warning disable CA1031 // The application's code: the connection closes all the same.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogLifecycleFailed(_services.Logger, ConnectionId, RemoteEndPoint, nameof(IFrameConnectionLifecycle.OnClosingAsync), ex);
        }
    }

    /// <param name="final">The closing status the server sent, or null if the server did not end the connection.</param>
    private FrameCloseReason CloseReasonFor(FrameStatus? final) => final switch
    {
        _ when Volatile.Read(ref _failed) != 0 => FrameCloseReason.ServerError,
        FrameStatus.ShuttingDown when _closeRequested => FrameCloseReason.ApplicationRequested,
        FrameStatus.ShuttingDown => FrameCloseReason.ShuttingDown,
        FrameStatus.IdleTimeout => FrameCloseReason.IdleTimeout,
        FrameStatus.FrameTimeout => FrameCloseReason.FrameTimeout,
        FrameStatus.FrameTooLarge => FrameCloseReason.FrameTooLarge,
        FrameStatus.ProtocolError => FrameCloseReason.ProtocolError,
        _ when _writeTimedOut => FrameCloseReason.WriteTimeout,
        _ when _outputClosed => FrameCloseReason.ConnectionLost,
        _ => FrameCloseReason.ClientClosed,
    };
}
