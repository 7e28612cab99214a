using KestrelFrames;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
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
        // middleware there, so this goes in Kestrel's endpoint defaults, which every endpoint (HTTP ones too) gets
        // before its own configuration: it runs in front of KestrelFrames on the Frames endpoint. Endpoint defaults
        // are a single slot; a later ConfigureEndpointDefaults call would replace this one.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Use(next =>
            ActivatorUtilities.CreateInstance<SessionCleanupMiddleware>(endpoint.ApplicationServices, next).OnConnectionAsync)));
        return builder;
    }
}
