

using KestrelFrames.Connections;
using KestrelFrames.Observability;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;

namespace KestrelFrames.Hosting;

/// <summary>
/// Fills the gauges that describe the whole server at scrape time, from the components that know them, instead
/// of updating shared counters on every request.
/// </summary>
internal sealed class FrameGaugeSampler
{
    public FrameGaugeSampler(FrameMetrics metrics, WorkerPool pool, ConnectionManager connections, FrameServerState state, BlockMemoryPoolFactory transportPool) =>
        metrics.SampleBeforeScrape(() =>
        {
            metrics.MemoryPoolBytes.WithLabels("rented").Set(transportPool.RentedBytes);
            metrics.MemoryPoolBytes.WithLabels("pooled").Set(transportPool.PooledBytes);
            metrics.QueueLength.Set(pool.QueueLength);
            metrics.WorkersBusy.Set(pool.BusyWorkers);
            metrics.InFlightRequests.Set(connections.CountUnansweredRequests());
            metrics.Draining.Set(state.IsStopping ? 1 : 0);
        });
}
