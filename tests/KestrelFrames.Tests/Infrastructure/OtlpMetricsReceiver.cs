using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// An OTLP/HTTP metrics endpoint on loopback: each export the server's exporter posts is decoded into its metrics
/// (name to the data points' fields), so a test reads what a collector would receive.
/// </summary>
internal sealed class OtlpMetricsReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<Dictionary<string, OtlpMetric>> _exports = Channel.CreateUnbounded<Dictionary<string, OtlpMetric>>();

    private OtlpMetricsReceiver(WebApplication app) => _app = app;

    public string Endpoint => _app.Urls.First(url => url.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));

    public static async Task<OtlpMetricsReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpMetricsReceiver(app);
        app.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            receiver._exports.Writer.TryWrite(Decode(body.ToArray()));
            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>Reads exports until one satisfies <paramref name="condition"/>; the exporter posts periodically.</summary>
    public async Task<Dictionary<string, OtlpMetric>> WaitForAsync(Func<Dictionary<string, OtlpMetric>, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var export in _exports.Reader.ReadAllAsync(timeout.Token))
        {
            if (condition(export))
            {
                return export;
            }
        }

        throw new InvalidOperationException("the receiver stopped");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    // ExportMetricsServiceRequest.resource_metrics(1) > ResourceMetrics.scope_metrics(2) > ScopeMetrics.metrics(2)
    // > Metric { name 1, unit 3, gauge 5, sum 7, histogram 9 } > data_points(1).
    private static Dictionary<string, OtlpMetric> Decode(byte[] request)
    {
        var metrics = new Dictionary<string, OtlpMetric>();
        foreach (var resource in Protobuf.Messages(request, 1))
        {
            foreach (var scope in Protobuf.Messages(resource, 2))
            {
                foreach (var metric in Protobuf.Messages(scope, 2))
                {
                    var fields = Protobuf.Fields(metric);
                    string name = fields.First(f => f.Number == 1).Text;
                    string unit = fields.FirstOrDefault(f => f.Number == 3).Text ?? "";
                    var data = fields.First(f => f.Number is 5 or 7 or 9);
                    metrics[name] = new OtlpMetric(unit, data.Number == 9, [.. Protobuf.Messages(data.Bytes, 1)]);
                }
            }
        }

        return metrics;
    }
}

/// <summary>One metric of an export: its unit and its data points, still encoded.</summary>
internal sealed record OtlpMetric(string Unit, bool IsHistogram, List<ReadOnlyMemory<byte>> Points)
{
    /// <summary>NumberDataPoint.as_int (6) of the only point.</summary>
    public long SingleLong => (long)Protobuf.Fields(Points.Single()).Single(f => f.Number == 6).Value;

    /// <summary>HistogramDataPoint.explicit_bounds (7) of the only point.</summary>
    public double[] Bounds => Protobuf.PackedDoubles(Points.Single(), 7);

    /// <summary>HistogramDataPoint.count (4) of the only point.</summary>
    public long Count => (long)Protobuf.Fields(Points.Single()).Single(f => f.Number == 4).Value;
}
