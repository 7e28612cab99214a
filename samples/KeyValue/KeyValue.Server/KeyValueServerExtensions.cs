using KestrelFrames;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace KeyValue.Server;

/// <summary>Plugs the key-value protocol into a KestrelFrames host.</summary>
public static class KeyValueServerExtensions
{
    /// <summary>
    /// Registers the store, the per-connection sessions and <see cref="KeyValueHandler"/> as the
    /// <see cref="IFrameHandler"/>. Call it before <c>AddFrameServer()</c>, which adds its echo handler only when no
    /// <see cref="IFrameHandler"/> is registered yet.
    /// </summary>
    public static WebApplicationBuilder AddKeyValueStore(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<KeyValueStore>();
        builder.Services.AddSingleton<KeyValueSessions>();
        builder.Services.AddSingleton<IFrameHandler, KeyValueHandler>();

        // Workaround, not KestrelFrames API: nothing in KestrelFrames says when a connection ends, so a Kestrel
        // connection middleware does. AddFrameServer configures the Frames endpoint itself and offers no place to add
        // middleware there, so this goes in Kestrel's endpoint defaults, which every endpoint gets before its own
        // configuration, and so runs in front of KestrelFrames. Kestrel builds an endpoint's middleware when it binds
        // it, after AddFrameServer has listed the Frames endpoint in FrameEndpoints: the other (HTTP) endpoints are
        // left as they are. Endpoint defaults are a single slot; a later ConfigureEndpointDefaults would replace this.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Use(next =>
            IsFramesEndpoint(endpoint)
                ? ActivatorUtilities.CreateInstance<SessionCleanupMiddleware>(endpoint.ApplicationServices, next).OnConnectionAsync
                : next)));
        return builder;
    }

    // By reference: FrameEndpoints hands out the EndPoint objects of the Frames endpoint's own ListenOptions, while by
    // value two endpoints both on 127.0.0.1:0 (before Kestrel fills in the ports) would look the same.
    private static bool IsFramesEndpoint(ListenOptions endpoint) =>
        endpoint.ApplicationServices.GetRequiredService<FrameEndpoints>().EndPoints.Any(e => ReferenceEquals(e, endpoint.EndPoint));
}
