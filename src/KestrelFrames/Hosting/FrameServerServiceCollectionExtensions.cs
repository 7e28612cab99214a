using KestrelFrames.Connections;
using KestrelFrames.Hosting;
using KestrelFrames.Observability;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;
using KestrelFrames.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelFrames;

/// <summary>Registers the frame server's services.</summary>
public static class FrameServerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the worker pool, the connection handler, metrics and health checks, with <see cref="FrameServerOptions"/>
    /// bound from <paramref name="configuration"/>'s <c>Frames</c> section and validated at start. A handler
    /// registered as <see cref="IFrameHandler"/> before this call replaces the default echo handler.
    /// </summary>
    public static IServiceCollection AddFrameServer(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<FrameServerOptions>()
            .BindStrictly(configuration.GetSection(FrameServerOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FrameServerOptions>, FrameServerOptionsValidator>());

        // The limits a running server takes from a configuration reload (docs/operations.md lists which).
        services.TryAddSingleton(sp =>
        {
            IOptionsFactory<FrameServerOptions> factory = sp.GetRequiredService<IOptionsFactory<FrameServerOptions>>();
            TimeSpan shutdownTimeout = sp.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
            return new LiveFrameOptions(
                sp.GetRequiredService<IOptions<FrameServerOptions>>().Value,
                configuration.GetReloadToken,
                failures => FrameOptionsReload.Build(configuration, factory, shutdownTimeout, failures),
                sp.GetRequiredService<ILogger<LiveFrameOptions>>());
        });

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IFrameHandler, EchoFrameHandler>();
        services.TryAddSingleton<FrameMetrics>();
        services.TryAddSingleton<FrameServerState>();
        services.TryAddSingleton<FrameEndpoints>();
        services.TryAddSingleton<FrameServices>();
        services.TryAddSingleton<FrameConnectionHandler>();
        services.TryAddSingleton<WorkerPool>();
        services.TryAddSingleton<BufferBudget>();
        services.TryAddSingleton<ResourceLedger>();
        services.TryAddSingleton<ConnectionManager>();
        services.TryAddSingleton<FrameHeartbeat>();
        services.TryAddSingleton<ConnectionLimiter>();
        services.TryAddSingleton<ClientRateLimiter>();
        services.TryAddSingleton<LargeBufferPool>();
        services.TryAddSingleton<PoolTrimmer>();
        services.TryAddSingleton<BlockMemoryPoolFactory>();
        services.TryAddSingleton<EpollTransportFactory>();

        // Hosted services stop in reverse order and Kestrel's is registered after these, so Kestrel drains every
        // connection before the pool stops: no request can be stranded in the queue.
        services.AddHostedService(sp => sp.GetRequiredService<WorkerPool>());
        services.AddHostedService<FrameServerLifecycle>();
        services.AddHostedService<FrameGauges>();

        services.AddHealthChecks()
            .AddCheck<WorkerPoolHealthCheck>("worker_pool", tags: [FrameHealthTags.Live, FrameHealthTags.Ready])
            .AddCheck<FrameListenerHealthCheck>("frames_listener", tags: [FrameHealthTags.Ready]);
        return services;
    }
}
