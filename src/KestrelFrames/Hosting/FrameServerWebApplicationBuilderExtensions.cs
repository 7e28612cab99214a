using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace KestrelFrames.Hosting;

/// <summary>Wires the frame server into a <see cref="WebApplicationBuilder"/>.</summary>
public static class FrameServerWebApplicationBuilderExtensions
{
    /// <summary>The Kestrel endpoint, under <c>Kestrel:Endpoints</c>, that speaks the frame protocol.</summary>
    public const string FramesEndpointName = "Frames";

    /// <summary>
    /// Adds the frame server's services and binds Kestrel from the <c>Kestrel</c> configuration section: the
    /// endpoint named <c>Frames</c> speaks the frame protocol, every other endpoint (<c>Http</c>) serves HTTP.
    /// </summary>
    public static WebApplicationBuilder AddFrameServer(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddFrameServer(builder.Configuration);

        // HostOptions:ShutdownTimeout bounds the whole drain; operators set it next to Frames:DrainDelay.
        builder.Services.Configure<HostOptions>(builder.Configuration.GetSection("HostOptions"));
        builder.AddFrameTelemetry();
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            // Configure(section) must get the real section: the argument-less overload reads an empty one,
            // and the named endpoints are then never found.
            kestrel.Configure(context.Configuration.GetSection("Kestrel"))
                .Endpoint(FramesEndpointName, endpoint => endpoint.ListenOptions.UseFrames());
        });
        return builder;
    }
}
