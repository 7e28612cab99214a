using System.Security.Cryptography.X509Certificates;
using KestrelFrames.Connections;
using KestrelFrames.Hosting;
using KestrelFrames.Primitives;
using KestrelFrames.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelFrames;

/// <summary>Wires the frame server into a <see cref="WebApplicationBuilder"/>.</summary>
public static partial class FrameServerWebApplicationBuilderExtensions
{
    /// <summary>The Kestrel endpoint, under <c>Kestrel:Endpoints</c>, that speaks the frame protocol.</summary>
    public const string FramesEndpointName = "Frames";

    /// <summary>
    /// Adds the frame server's services and binds Kestrel from the <c>Kestrel</c> configuration section: the
    /// endpoint named <c>Frames</c> speaks the frame protocol, every other endpoint (<c>Http</c>) serves HTTP. When
    /// <c>Kestrel:Endpoints</c> names no endpoint at all, the two are <c>Frames</c> on <c>http://0.0.0.0:9000</c>
    /// and <c>Http</c> on <c>http://0.0.0.0:8080</c>. The HTTP endpoints serve <c>/health/live</c>,
    /// <c>/health/ready</c>, <c>/health</c> and <c>/metrics</c> in front of the app's own pipeline. Run the app
    /// with <see cref="FrameServerHostExtensions.RunFrameServerAsync"/> for one-line configuration errors and
    /// exit codes.
    /// </summary>
    public static WebApplicationBuilder AddFrameServer(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        DefaultEndpoints.AddIfNoneConfigured(builder.Configuration, builder.Configuration);
        builder.Services.AddFrameServer(builder.Configuration);
        HostStartFailureLogFilter.Register(builder.Services);
        builder.Services.AddHostedService<StartValidation>();

        // HostOptions:ShutdownTimeout bounds the whole drain; operators set it next to Frames:DrainDelay. The host
        // reads HostOptions inside Build(), where a bad value could only throw with a stack trace, so it is bound
        // leniently here and checked by name before the start (FrameServerValidation, run by StartValidation and
        // RunFrameServerAsync), which it then refuses.
        builder.Services.AddOptions<HostOptions>().BindLeniently(builder.Configuration.GetSection(HostOptionsValidator.SectionName));
        builder.AddFrameTelemetry();

        // Startup filters wrap in order: the thread-pool hop first, then the operations endpoints.
        builder.Services.TryAddSingleton<FrameOperationsMapping>();
        builder.Services.AddTransient<IStartupFilter, ThreadPoolHttpStartupFilter>();
        builder.Services.AddTransient<IStartupFilter, FrameOperationsStartupFilter>();

        // Kestrel's socket transport (IOQueueCount, UnsafePreferInlineScheduling, buffer sizes), tuned by measurement:
        // docs/benchmarks.md says what each setting bought.
        // Inline scheduling runs the transport's continuations, and so the read loop, on the I/O thread. Kestrel calls
        // it unsafe because application code would run there; here it never does: handlers run on the worker pool,
        // and the read loop only parses, copies and queues. Measured faster on every case (docs/benchmarks.md).
        builder.Services.Configure<SocketTransportOptions>(transport => transport.UnsafePreferInlineScheduling = true);
        // Read inside Build() too (WebApplication resolves the server, and the server its transport): checked by
        // name before the start, as HostOptions is.
        builder.Services.AddOptions<SocketTransportOptions>().BindLeniently(builder.Configuration.GetSection(SocketTransportOptionsValidator.SectionName));

        // Replaces the factory Kestrel registered, so the transport's blocks are Frames:TransportBlockSize.
        builder.Services.Replace(ServiceDescriptor.Singleton<IMemoryPoolFactory<byte>>(sp => sp.GetRequiredService<BlockMemoryPoolFactory>()));

        // After Kestrel's own sockets factory, so Kestrel asks this one first; it binds only the endpoint claimed below.
        builder.Services.AddSingleton<IConnectionListenerFactory>(sp => sp.GetRequiredService<EpollTransportFactory>());
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            // Configure(section) must get the real section: the argument-less overload reads an empty one,
            // and the named endpoints are then never found. With reloadOnChange, Kestrel watches the endpoints'
            // certificate files too: when one changes, it unbinds the endpoint (its connections drain as at a
            // shutdown) and binds it again, running this callback again on new listen options.
            ListenOptions? configured = null;
            kestrel.Configure(context.Configuration.GetSection("Kestrel"), reloadOnChange: true)
                .Endpoint(FramesEndpointName, endpoint =>
                {
                    FrameEndpoints frameEndpoints = kestrel.ApplicationServices.GetRequiredService<FrameEndpoints>();
                    bool rebinding = configured is not null;
                    if (rebinding)
                    {
                        frameEndpoints.Remove(configured!);
                    }

                    configured = endpoint.ListenOptions;
                    FrameServerOptions options = kestrel.ApplicationServices.GetRequiredService<IOptions<FrameServerOptions>>().Value;
                    if (options.ResolvedTransport == FrameTransport.Epoll)
                    {
                        kestrel.ApplicationServices.GetRequiredService<EpollTransportFactory>().Claim(endpoint.ListenOptions.EndPoint);
                    }

                    // Connection middleware runs in the order added, the terminal frame handler last. The loader
                    // adds TLS only after this callback, behind the terminal handler where it would never run:
                    // on an https:// URL, TLS goes in here, in front, with the certificate the loader read.
                    // PROXY protocol first: the balancer's header comes before the client's TLS handshake.
                    if (options.ProxyProtocol.Mode != ProxyProtocolMode.Off)
                    {
                        endpoint.ListenOptions.Use(next => ActivatorUtilities.CreateInstance<ProxyProtocolMiddleware>(kestrel.ApplicationServices, next).OnConnectionAsync);
                    }

                    if (endpoint.IsHttps)
                    {
                        UseTls(endpoint.ListenOptions, endpoint.HttpsOptions, options, kestrel.ApplicationServices);
                    }

                    endpoint.ListenOptions.UseFrames();
                    ILogger logger = kestrel.ApplicationServices.GetRequiredService<ILogger<FrameEndpoints>>();
                    if (rebinding && logger.IsEnabled(LogLevel.Information))
                    {
                        X509Certificate2? certificate = endpoint.IsHttps ? endpoint.HttpsOptions.ServerCertificate : null;
                        DateTime? notAfter = certificate?.NotAfter.ToUniversalTime();
                        LogRebinding(logger, endpoint.ListenOptions.EndPoint, certificate?.Subject ?? "-", certificate?.Thumbprint ?? "-", notAfter);
                    }
                });
        });
        return builder;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Frames endpoint {EndPoint} rebinding from changed configuration or certificate files; its connections drain. TLS certificate {Subject} ({Thumbprint}), valid until {NotAfter:u}.")]
    private static partial void LogRebinding(ILogger logger, System.Net.EndPoint endPoint, string subject, string thumbprint, DateTime? notAfter);

    private static void UseTls(ListenOptions listenOptions, HttpsConnectionAdapterOptions https, FrameServerOptions options, IServiceProvider services)
    {
        // Kestrel's own message for this is an ArgumentException from UseHttps, with a stack trace.
        if (https.ServerCertificate is null && https.ServerCertificateSelector is null)
        {
            throw new OptionsValidationException(FramesEndpointName, typeof(FrameServerOptions),
                [$"{KestrelEndpointValidator.EndpointsSection}:{FramesEndpointName}:Certificate is not set: an https:// Frames URL needs a server certificate (Certificate:Path and KeyPath, or Subject and Store)."]);
        }

        // Read here, at bind time: the ConfigureKestrel callback around this runs during Build, before
        // the validation has had a chance to report a bad value in one line.
        https.HandshakeTimeout = options.TlsHandshakeTimeout;
        listenOptions.Use(next => ActivatorUtilities.CreateInstance<TlsHandshakeLogMiddleware>(services, next).OnConnectionAsync);
        listenOptions.UseHttps(https);
        listenOptions.Use(TlsHandshakeLogMiddleware.MarkCompleted);
        services.GetRequiredService<FrameEndpoints>().AddTls(listenOptions, https);
    }
}
