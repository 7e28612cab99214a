using KestrelFrames.Processing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KestrelFrames.Hosting;

/// <summary>Live while the worker pool runs; reports queue saturation as Degraded, never Unhealthy, so that load alone
/// cannot take every replica out of a balancer at once.</summary>
internal sealed class WorkerPoolHealthCheck(WorkerPool pool) : IHealthCheck
{
    private const double SaturatedFill = 0.9;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!pool.IsRunning)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("worker pool is not running"));
        }

        int queued = pool.QueueLength;
        double fill = (double)queued / pool.QueueCapacity;
        var data = new Dictionary<string, object>
        {
            ["queue_length"] = queued,
            ["queue_capacity"] = pool.QueueCapacity,
            ["queue_fill"] = Math.Round(fill, 3),
            ["workers_busy"] = pool.BusyWorkers,
        };
        return Task.FromResult(fill >= SaturatedFill
            ? HealthCheckResult.Degraded("worker queue saturated", data: data)
            : HealthCheckResult.Healthy("worker pool running", data));
    }
}
