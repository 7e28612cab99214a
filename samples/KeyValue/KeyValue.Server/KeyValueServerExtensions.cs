using KestrelFrames;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace KeyValue.Server;

/// <summary>Plugs the key-value protocol into a KestrelFrames host.</summary>
public static class KeyValueServerExtensions
{
    /// <summary>
    /// Registers the store, the per-connection sessions and <see cref="KeyValueHandler"/> as the
    /// <see cref="IFrameHandler"/> (which, as an <see cref="IFrameConnectionLifecycle"/> too, opens and ends the sessions). Call it before <c>AddFrameServer()</c>, which adds its echo handler only when no
    /// <see cref="IFrameHandler"/> is registered yet.
    /// </summary>
    public static WebApplicationBuilder AddKeyValueStore(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<KeyValueStore>();
        builder.Services.AddSingleton<KeyValueSessions>();
        builder.Services.AddSingleton<IFrameHandler, KeyValueHandler>();

        return builder;
    }
}
