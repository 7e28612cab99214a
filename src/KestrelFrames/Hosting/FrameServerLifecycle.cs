using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Hosting;

/// <summary>
/// Marks the listener ready once Kestrel has bound it, and starts draining in <see cref="StoppingAsync"/>, which the
/// host runs for every service before any <c>StopAsync</c>: readiness fails before Kestrel stops accepting.
/// </summary>
internal sealed partial class FrameServerLifecycle(
    FrameServerState state,
    FrameEndpoints endpoints,
    ILogger<FrameServerLifecycle> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        foreach (var endPoint in endpoints.EndPoints)
        {
            LogListening(logger, endPoint);
        }

        state.SetListening(endpoints.EndPoints.Count > 0);
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        state.BeginDraining();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        state.SetListening(false);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Frames endpoint listening on {EndPoint}.")]
    private static partial void LogListening(ILogger logger, System.Net.EndPoint endPoint);
}
