using KestrelFrames.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace KestrelFrames;

/// <summary>OpenTelemetry export, on only when an OTLP endpoint is configured.</summary>
public static class FrameTelemetryExtensions
{
    /// <summary>
    /// When <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, exports the <c>KestrelFrames</c> spans and meters (and
    /// Kestrel's and the runtime's) over OTLP; the standard <c>OTEL_*</c> variables apply. Otherwise nothing is
    /// registered: no listener, so the request path creates no span at all.
    /// </summary>
    public static WebApplicationBuilder AddFrameTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (string.IsNullOrEmpty(builder.Configuration["OTEL_SERVICE_NAME"]))
                {
                    resource.AddService("kestrelframes");
                }
            })
            .WithTracing(tracing => tracing.AddSource(FrameActivitySource.Name))
            .WithMetrics(metrics => metrics.AddMeter(FrameMetrics.MeterName, "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime"))
            .UseOtlpExporter();
        return builder;
    }
}
