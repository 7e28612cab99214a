using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Hosting;

/// <summary>
/// Keeps the host's "Hosting failed to start" Error line, with its stack trace, out of the log until the host has
/// started. The same exception comes out of RunAsync, where RunFrameServerAsync either turns it into one line naming
/// the key or lets it end the process, which prints it in full: the log line only ever repeats it.
/// </summary>
internal sealed class HostStartFailureLogFilter : IHostedLifecycleService
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";
    private volatile bool _started;

    public static void Register(IServiceCollection services)
    {
        var filter = new HostStartFailureLogFilter();

        // This category logs at Debug otherwise (starting, started, stopping), which Information already hides; a
        // rule for it replaces the configured level, so the rule keeps Information as its floor.
        services.Configure<LoggerFilterOptions>(options =>
            options.AddFilter(HostCategory, level => level >= LogLevel.Information && (filter._started || level != LogLevel.Error)));
        services.AddHostedService(_ => filter);
    }

    // After every service's StartAsync, Kestrel's bind included: from here on, a host error is news.
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        _started = true;
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
