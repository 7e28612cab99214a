using System.Diagnostics;
using KestrelFrames.Client;
using KestrelFrames.Client.Internal;
using KestrelFrames.Tests.Infrastructure;
using KestrelFrames.Tests.Observability;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static KestrelFrames.Tests.Client.ClientTestKit;

namespace KestrelFrames.Tests.Client;

/// <summary>The client's spans and meter. Both are process-wide, so these run alone.</summary>
[Collection(SerialTracing.Name)]
public sealed class FrameClientTelemetryTests
{
    [Fact]
    public async Task Each_request_is_a_client_span_and_a_measurement_tagged_with_its_server_and_outcome()
    {
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use(async (frame, _) =>
        {
            if (frame.Request.Span.SequenceEqual("fail"u8))
            {
                throw new InvalidOperationException("boom");
            }

            await DelegateFrameHandler.Echo(frame);
        }));
        int port = server.FramesEndPoint.Port;
        using var spans = new SpanRecorder();
        using var requests = new MetricCollector<long>(null, FrameClientTelemetry.Name, "frames.client.requests");
        using var durations = new MetricCollector<double>(null, FrameClientTelemetry.Name, "frames.client.request.duration");
        await using FrameClient client = await ConnectAsync(server);

        Assert.True((await client.SendAsync("ok"u8.ToArray())).IsOk);
        Assert.Equal(FrameResponseStatus.HandlerError, (await client.SendAsync("fail"u8.ToArray())).Status);

        Assert.Equal(["ok", "handler_error"], requests.GetMeasurementSnapshot().Select(m => (string)m.Tags["outcome"]!));
        Assert.All(requests.GetMeasurementSnapshot(), m => Assert.Equal(port, m.Tags["server.port"]));
        Assert.Equal(2, durations.GetMeasurementSnapshot().Count);
        var mine = spans.Stopped.Where(s => Equals(s.GetTagItem("server.port"), port)).ToList();
        Assert.Equal(2, mine.Count);
        Assert.All(mine, span =>
        {
            Assert.Equal(ActivityKind.Client, span.Kind);
            Assert.Equal("kestrelframes", span.GetTagItem("rpc.system.name"));
            Assert.Equal("127.0.0.1", span.GetTagItem("server.address"));
        });
        Assert.Null(mine[0].GetTagItem("error.type"));
        Assert.Equal("handler_error", mine[1].GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, mine[1].Status);
    }

    [Fact]
    public async Task A_reconnect_is_counted_for_its_server()
    {
        int port = FreePort();
        using var reconnects = new MetricCollector<long>(null, FrameClientTelemetry.Name, "frames.client.reconnects");
        var serverA = TestFrameServer.Start(OnPort(port));
        var options = new FrameClientOptions { Reconnect = new FrameReconnectOptions { MaxReconnectAttempts = 200, ReconnectDelay = TimeSpan.FromMilliseconds(5), MaxReconnectDelay = TimeSpan.FromMilliseconds(100) } };
        await using FrameClient client = await ConnectAsync(port, options);
        await serverA.DisposeAsync();
        await using var serverB = TestFrameServer.Start(OnPort(port));

        Assert.True((await client.SendAsync("x"u8.ToArray())).IsOk); // Waits for the new connection.

        Assert.Equal(1, client.Reconnects);
        CollectedMeasurement<long> reconnect = Assert.Single(reconnects.GetMeasurementSnapshot());
        Assert.Equal(port, reconnect.Tags["server.port"]);
    }

    [Fact]
    public void The_client_takes_the_measured_path_only_while_someone_listens()
    {
        Assert.False(ClientInstruments.IsObserved); // The allocation tests measure this path: nothing per request.
        using (new MetricCollector<double>(null, FrameClientTelemetry.Name, "frames.client.request.duration"))
        {
            Assert.True(ClientInstruments.IsObserved);
        }

        using (new SpanRecorder())
        {
            Assert.True(ClientInstruments.IsObserved);
        }

        Assert.False(ClientInstruments.IsObserved);
    }

    /// <summary>Collects the client's spans as they stop.</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly List<Activity> _stopped = [];

        public SpanRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == FrameClientTelemetry.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    lock (_stopped)
                    {
                        _stopped.Add(activity);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public List<Activity> Stopped
        {
            get
            {
                lock (_stopped)
                {
                    return [.. _stopped];
                }
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
