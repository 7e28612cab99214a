using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Observability;

/// <summary>
/// What an OpenTelemetry collector receives from a server started with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>: the
/// real exporter, over OTLP/HTTP, decoded. The meter is process-wide, like the activity source: these run alone.
/// </summary>
[Collection(SerialTracing.Name)]
public sealed class OtlpExportTests
{
    [Fact]
    public async Task The_duration_histogram_has_the_same_second_bounds_as_metrics_and_the_queue_length_is_live()
    {
        await using var receiver = await OtlpMetricsReceiver.StartAsync();
        var gated = new GatedEcho();
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "100",
                ["Frames:Workers"] = "1",
            },
            gated.Handler);
        var clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => server.ConnectAsync()));

        // One request holds the only worker; three wait in the queue. Nobody scrapes /metrics.
        await clients[0].SendFrameAsync("a"u8);
        await gated.FirstCall;
        foreach (var client in clients.Skip(1))
        {
            await client.SendFrameAsync("b"u8);
        }

        var export = await receiver.WaitForAsync(m => m.TryGetValue("frames.worker_queue_length", out var q) && q.SingleLong == 3);
        Assert.Equal(1, export["frames.workers_busy"].SingleLong);
        Assert.Equal(4, export["frames.inflight_requests"].SingleLong);
        Assert.Equal("{work_item}", export["frames.worker_queue_length"].Unit);

        gated.Open();
        foreach (var client in clients)
        {
            await client.ReadRequiredFrameAsync();
            client.Dispose();
        }

        export = await receiver.WaitForAsync(m => m.TryGetValue("frames.request.duration", out var d) && d.Count == 4);
        OtlpMetric duration = export["frames.request.duration"];
        Assert.True(duration.IsHistogram);
        Assert.Equal("s", duration.Unit);
        Assert.Equal(
            [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
            duration.Bounds);
        Assert.Equal(0, export["frames.worker_queue_length"].SingleLong);
    }
}
