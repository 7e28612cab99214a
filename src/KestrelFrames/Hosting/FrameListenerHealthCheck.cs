using KestrelFrames.Connections;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KestrelFrames.Hosting;

/// <summary>Ready while the Frames listener is bound and the server is not draining.</summary>
internal sealed class FrameListenerHealthCheck(FrameServerState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            state.IsStopping ? HealthCheckResult.Unhealthy("draining")
            : !state.IsListening ? HealthCheckResult.Unhealthy("frames listener not bound")
            : HealthCheckResult.Healthy("accepting frame connections"));
}
