using KestrelFrames.Observability;
using Microsoft.AspNetCore.Http;

namespace KestrelFrames.Hosting;

/// <summary>
/// <c>/metrics</c>: this server's frames_* registry, then the process-wide one (Kestrel, runtime, process), in
/// Prometheus text format. The two registries never share a name.
/// </summary>
internal static class MetricsEndpoint
{
    public static async Task WriteAsync(HttpContext context, FrameMetrics metrics)
    {
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        await ProcessMetrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
    }
}
