using System.Diagnostics;
using System.Net;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace KestrelFrames.Tests.Observability;

[Collection(SerialTracing.Name)]
public sealed class TracingTests
{
    [Fact]
    public async Task Each_request_gets_one_root_span_with_its_connection_size_outcome_and_addresses()
    {
        var spans = new List<Activity>();
        await using var server = TestFrameServer.Start(services: Tracing(spans));
        using var client = await server.ConnectAsync();
        var local = (IPEndPoint)client.Socket.LocalEndPoint!;

        for (int i = 0; i < 3; i++)
        {
            await client.SendFrameAsync(new byte[10 + i]);
            await client.ReadRequiredFrameAsync();
        }

        await server.StopAsync(); // Flushes the exporter: every span has ended by now.
        var mine = Mine(spans, local);
        Assert.Equal(3, mine.Count);
        Assert.All(mine, span =>
        {
            Assert.Equal(FrameActivitySource.RequestActivityName, span.OperationName);
            Assert.Equal(ActivityKind.Server, span.Kind);
            Assert.Null(span.ParentId); // A root: never the previous request of the connection.
            Assert.Equal("ok", span.GetTagItem("kestrelframes.outcome"));
            Assert.Equal("127.0.0.1", span.GetTagItem("network.peer.address"));
            Assert.Equal("127.0.0.1", span.GetTagItem("client.address")); // No PROXY header: the client is the peer.
            Assert.Equal(local.Port, span.GetTagItem("client.port"));
            Assert.Equal(server.FramesEndPoint.Port, span.GetTagItem("server.port"));
            Assert.Equal("tcp", span.GetTagItem("network.transport"));
            Assert.Equal("kestrelframes", span.GetTagItem("rpc.system.name"));
            Assert.Null(span.GetTagItem("error.type"));
            Assert.NotNull(span.GetTagItem("kestrelframes.connection.id"));
            Assert.InRange((double)span.GetTagItem("kestrelframes.request.queue_time")!, 0, double.MaxValue);
        });
        Assert.Equal([10, 11, 12], mine.Select(s => (int)s.GetTagItem("kestrelframes.request.size")!).Order());
        Assert.Equal(3, mine.Select(s => s.TraceId).Distinct().Count());
    }

    [Fact]
    public async Task A_handler_failure_marks_its_span_as_an_error()
    {
        var spans = new List<Activity>();
        await using var server = TestFrameServer.Start(services: services =>
        {
            Tracing(spans)(services);
            DelegateFrameHandler.Use((_, _) => throw new InvalidOperationException("boom"))(services);
        });
        using var client = await server.ConnectAsync();
        var local = (IPEndPoint)client.Socket.LocalEndPoint!;

        await client.SendFrameAsync("x"u8);
        Assert.Equal(FrameStatus.HandlerError, (await client.ReadRequiredFrameAsync()).Status);

        await server.StopAsync();
        Activity span = Assert.Single(Mine(spans, local));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("handler_error", span.GetTagItem("kestrelframes.outcome"));
        Assert.Equal("handler_error", span.GetTagItem("error.type"));
    }

    [Fact]
    public async Task A_busy_answer_carries_an_error_type_but_leaves_the_span_unset()
    {
        var spans = new List<Activity>();
        var gated = new GatedEcho();
        var settings = new Dictionary<string, string?> { ["Frames:Workers"] = "1", ["Frames:QueueCapacity"] = "1", ["Frames:OverloadMode"] = "Shed" };
        await using var server = TestFrameServer.Start(settings, services =>
        {
            Tracing(spans)(services);
            gated.Handler(services);
        });
        using var holder = await server.ConnectAsync();
        using var queued = await server.ConnectAsync();
        using var client = await server.ConnectAsync();
        var local = (IPEndPoint)client.Socket.LocalEndPoint!;

        await holder.SendFrameAsync("a"u8); // Takes the one worker...
        await gated.FirstCall;
        await queued.SendFrameAsync("b"u8); // ...fills the queue...
        await MetricsScrape.ScrapeUntilAsync(server, text => MetricsScrape.Sample(text, "frames_worker_queue_length") == 1);
        await client.SendFrameAsync("c"u8); // ...so this one is refused.
        Assert.Equal(FrameStatus.Busy, (await client.ReadRequiredFrameAsync()).Status);
        gated.Open();
        await holder.ReadRequiredFrameAsync();
        await queued.ReadRequiredFrameAsync();

        await server.StopAsync();
        Activity span = Assert.Single(Mine(spans, local));
        Assert.Equal("busy", span.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public async Task A_request_over_its_clients_rate_is_a_rate_limited_span_not_an_error_of_the_server()
    {
        var spans = new List<Activity>();
        var settings = new Dictionary<string, string?> { ["Frames:RateLimit:RequestsPerSecond"] = "1", ["Frames:RateLimit:Burst"] = "1" };
        await using var server = TestFrameServer.Start(settings, Tracing(spans), new Microsoft.Extensions.Time.Testing.FakeTimeProvider());
        using var client = await server.ConnectAsync();
        var local = (IPEndPoint)client.Socket.LocalEndPoint!;

        await client.SendRawAsync([.. FrameTestClient.Encode("a"u8), .. FrameTestClient.Encode("b"u8)]);
        Assert.False((await client.ReadRequiredFrameAsync()).IsStatus);
        Assert.Equal(FrameStatus.Busy, (await client.ReadRequiredFrameAsync()).Status);

        await server.StopAsync();
        List<Activity> mine = Mine(spans, local);
        Assert.Equal(2, mine.Count);
        Activity refused = Assert.Single(mine, span => (int?)span.GetTagItem("kestrelframes.request.size") == 0);
        Assert.Equal("rate_limited", refused.GetTagItem("kestrelframes.outcome"));
        Assert.Equal("rate_limited", refused.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Unset, refused.Status);
    }

    [Fact]
    public async Task Behind_a_proxy_the_client_is_the_headers_source_and_the_peer_is_the_balancer()
    {
        var spans = new List<Activity>();
        var settings = new Dictionary<string, string?>
        {
            ["Frames:ProxyProtocol:Mode"] = "Optional",
            ["Frames:ProxyProtocol:TrustedProxies:0"] = "127.0.0.1",
        };
        await using var server = TestFrameServer.Start(settings, Tracing(spans));
        using var connection = await server.ConnectAsync();
        var local = (IPEndPoint)connection.Socket.LocalEndPoint!;

        await connection.SendRawAsync([.. ProxyHeaders.V2Proxy(IPEndPoint.Parse("203.0.113.7:5555"), IPEndPoint.Parse("192.0.2.1:7000")), .. FrameTestClient.Encode("x"u8)]);
        await connection.ReadRequiredFrameAsync();

        await server.StopAsync();
        Activity span = Assert.Single(Mine(spans, local));
        Assert.Equal("203.0.113.7", span.GetTagItem("client.address"));
        Assert.Equal(5555, span.GetTagItem("client.port"));
        Assert.Equal("127.0.0.1", span.GetTagItem("network.peer.address"));
        Assert.Equal(local.Port, span.GetTagItem("network.peer.port"));
    }

    [Fact]
    public async Task The_handler_runs_inside_its_request_span()
    {
        var spans = new List<Activity>();
        string? seenTraceId = null;
        await using var server = TestFrameServer.Start(services: services =>
        {
            Tracing(spans)(services);
            DelegateFrameHandler.Use(async (frame, _) =>
            {
                seenTraceId = Activity.Current?.TraceId.ToString();
                await DelegateFrameHandler.Echo(frame);
            })(services);
        });
        using var client = await server.ConnectAsync();
        var local = (IPEndPoint)client.Socket.LocalEndPoint!;

        await client.SendFrameAsync("x"u8);
        await client.ReadRequiredFrameAsync();

        await server.StopAsync();
        Assert.Equal(Assert.Single(Mine(spans, local)).TraceId.ToString(), seenTraceId);
    }

    [Fact]
    public async Task Without_a_listener_for_the_source_no_span_is_created()
    {
        var spans = new List<Activity>();
        await using var server = TestFrameServer.Start(services: services =>
            services.AddOpenTelemetry().WithTracing(t => t.AddSource("SomethingElse").AddInMemoryExporter(spans)));
        using var client = await server.ConnectAsync();
        Activity? seen = null;
        await using var probe = TestFrameServer.Start(services: DelegateFrameHandler.Use(async (frame, _) =>
        {
            seen = Activity.Current;
            await DelegateFrameHandler.Echo(frame);
        }));
        using var probeClient = await probe.ConnectAsync();

        await client.SendFrameAsync("x"u8);
        await client.ReadRequiredFrameAsync();
        await probeClient.SendFrameAsync("x"u8);
        await probeClient.ReadRequiredFrameAsync();

        Assert.False(FrameActivitySource.Source.HasListeners());
        Assert.Null(seen);
        await server.StopAsync();
        Assert.Empty(spans);
    }

    private static Action<IServiceCollection> Tracing(List<Activity> spans) => services =>
        services.AddOpenTelemetry().WithTracing(t => t.AddSource(FrameActivitySource.Name).AddInMemoryExporter(spans));

    private static List<Activity> Mine(List<Activity> spans, IPEndPoint client)
    {
        lock (spans)
        {
            return [.. spans.Where(s => Equals(s.GetTagItem("network.peer.port"), client.Port))];
        }
    }
}
