using KestrelFrames.Connections;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames;

/// <summary>Turns a Kestrel endpoint into a frame-protocol endpoint.</summary>
public static class FrameListenOptionsExtensions
{
    /// <summary>
    /// Serves the frame protocol on <paramref name="listenOptions"/>. Connection middleware added before this call
    /// runs first; anything added after it never runs, because the frame handler is terminal.
    /// </summary>
    public static ListenOptions UseFrames(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        listenOptions.ApplicationServices.GetRequiredService<FrameEndpoints>().Add(listenOptions);
        listenOptions.Use(next => ActivatorUtilities.CreateInstance<ConnectionLimitMiddleware>(listenOptions.ApplicationServices, next).OnConnectionAsync);
        listenOptions.UseConnectionHandler<FrameConnectionHandler>();
        return listenOptions;
    }
}
