using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using KestrelFrames.Connections;
using KestrelFrames.Observability;
using KestrelFrames.Processing;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Connections;

/// <summary>
/// Frames:RateLimit over real sockets. The server runs on a fake clock that only the test moves, so a bucket refills
/// exactly when the test says and never while a batch is on its way.
/// </summary>
public sealed class RateLimitTests
{
    private static readonly IPEndPoint s_client = IPEndPoint.Parse("203.0.113.7:5555");
    private static readonly IPEndPoint s_otherClient = IPEndPoint.Parse("198.51.100.9:5555");
    private static readonly IPEndPoint s_balancer = IPEndPoint.Parse("192.0.2.1:7000");
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Requests_over_the_clients_rate_are_answered_busy_rate_limit_in_their_place_and_the_connection_stays_open()
    {
        var logs = new LogWaiter();
        await using var server = TestFrameServer.Start(RequestLimit(perSecond: 2, burst: 3), logs.Register, _time);
        using var requests = new MetricCollector<long>(server.Services.GetRequiredService<IMeterFactory>(), FrameMetrics.MeterName, "frames.requests");
        using var client = await server.ConnectAsync();

        // Six frames in one write: the burst of three is echoed, the rest answered Busy each in its own place,
        // the heartbeat between them too.
        await client.SendRawAsync([.. Request("r0"), .. Request("r1"), .. Request("r2"), .. Request("r3"), .. FrameTestClient.Encode([]), .. Request("r4")]);
        await AssertEchoAsync(client, "r0");
        await AssertEchoAsync(client, "r1");
        await AssertEchoAsync(client, "r2");
        await AssertRateLimitedAsync(client);
        Assert.Empty((await client.ReadRequiredFrameAsync()).Payload);
        await AssertRateLimitedAsync(client);

        // Still open, and served again as the bucket refills: two tokens a second.
        _time.Advance(TimeSpan.FromSeconds(1));
        await client.SendRawAsync([.. Request("r5"), .. Request("r6"), .. Request("r7")]);
        await AssertEchoAsync(client, "r5");
        await AssertEchoAsync(client, "r6");
        await AssertRateLimitedAsync(client);

        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(5, MetricsScrape.Sample(metrics, "frames_requests_total{outcome=\"ok\"}"));
        Assert.Equal(3, MetricsScrape.Sample(metrics, "frames_requests_total{outcome=\"rate_limited\"}"));
        Assert.Equal(0, MetricsScrape.Sample(metrics, "frames_requests_total{outcome=\"busy\"}"));
        requests.RecordObservableInstruments();
        Assert.Contains(requests.GetMeasurementSnapshot(), m => m.Value == 3 && Equals(m.Tags["outcome"], "rate_limited"));

        // One warning for the connection, not one per refused request.
        Assert.Single(logs.Lines, line => line.StartsWith("Warning:", StringComparison.Ordinal) && line.Contains("Busy (rate limit)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_frame_refused_for_its_rate_after_arriving_in_pieces_gives_back_the_bytes_reserved_for_it()
    {
        await using var server = TestFrameServer.Start(RequestLimit(perSecond: 1, burst: 1), time: _time);
        var budget = server.Services.GetRequiredService<BufferBudget>();
        using var client = await server.ConnectAsync();
        await client.SendFrameAsync("first"u8);
        await AssertEchoAsync(client, "first");

        // The header and part of a 100-byte frame: its length is reserved from the budget while the rest is awaited.
        byte[] frame = FrameTestClient.Encode(new byte[100]);
        await client.SendRawAsync(frame[..20]);
        await Polling.UntilAsync(() => budget.Used == 100, () => $"the partial frame reserved {budget.Used} bytes");
        await client.SendRawAsync(frame[20..]);

        await AssertRateLimitedAsync(client);
        Assert.Equal(0, budget.Used);
    }

    [Fact]
    public async Task A_connection_over_the_clients_connection_rate_is_answered_connection_limit_connection_rate_and_closed()
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:RateLimit:ConnectionsPerSecond"] = "2" }, time: _time);
        using var first = await server.ConnectAsync();
        using var second = await server.ConnectAsync();
        await ExchangeAsync(first, "first");
        await ExchangeAsync(second, "second");

        using (var third = await server.ConnectAsync())
        {
            Frame refusal = await third.ReadRequiredFrameAsync();
            Assert.Equal(FrameStatus.ConnectionLimit, refusal.Status);
            Assert.Equal("connection rate", refusal.Reason);
            Assert.True(await FrameTestClients.IsClosedAsync(third));
        }

        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsScrape.Sample(metrics, "frames_connections_rejected_total{reason=\"connection_rate\"}"));
        Assert.Equal(0, MetricsScrape.Sample(metrics, "frames_connections_rejected_total{reason=\"connection_limit\"}"));
        Assert.Equal(0, MetricsScrape.Sample(metrics, "frames_connections_rejected_total{reason=\"per_ip_limit\"}"));

        // The two served connections were not disturbed, and a second later the client may connect again.
        await ExchangeAsync(first, "still open");
        _time.Advance(TimeSpan.FromSeconds(1));
        using var later = await server.ConnectAsync();
        await ExchangeAsync(later, "later");
    }

    [Fact]
    public async Task Each_client_address_has_its_own_bucket_shared_by_all_its_connections()
    {
        await using var server = TestFrameServer.Start(RequestLimit(perSecond: 1, burst: 1), time: _time);
        using var closures = new ConnectionClosures(server);
        var limiter = server.Services.GetRequiredService<ClientRateLimiter>();
        using var limited = await server.ConnectAsync();
        await limited.SendRawAsync([.. Request("a0"), .. Request("a1")]);
        await AssertEchoAsync(limited, "a0");
        await AssertRateLimitedAsync(limited);

        // Another address (127.0.0.2 is loopback too) is another client, untouched by the first one's rate.
        using var other = await FrameTestClient.ConnectAsync(server.FramesEndPoint, IPAddress.Parse("127.0.0.2"));
        await ExchangeAsync(other, "b0");

        // A second connection of the first address is the same client: its bucket is already empty.
        using var sameAddress = await server.ConnectAsync();
        await sameAddress.SendFrameAsync(Encoding.UTF8.GetBytes("a2"));
        await AssertRateLimitedAsync(sameAddress);
        Assert.Equal(2, limiter.PartitionCount);
        Assert.Equal(2, MetricsScrape.Sample(await server.Http.GetStringAsync("/metrics"), "frames_rate_limit_partitions"));

        // Once the clients have gone and their buckets are full again, the server's sweep forgets both addresses.
        FrameTestClients.DisposeAll([limited, other, sameAddress]);
        await closures.WaitAsync(3);
        Assert.Equal(2, limiter.PartitionCount);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(0, limiter.PartitionCount);
        Assert.Equal(0, MetricsScrape.Sample(await server.Http.GetStringAsync("/metrics"), "frames_rate_limit_partitions"));
    }

    [Fact]
    public async Task Behind_a_balancer_the_proxy_headers_source_address_is_the_client_for_both_rates()
    {
        Dictionary<string, string?> settings = RequestLimit(perSecond: 1, burst: 1);
        settings["Frames:RateLimit:ConnectionsPerSecond"] = "2";
        settings["Frames:ProxyProtocol:Mode"] = "Optional";
        settings["Frames:ProxyProtocol:TrustedProxies:0"] = "127.0.0.1";
        await using var server = TestFrameServer.Start(settings, time: _time);

        // Every connection comes from the balancer, 127.0.0.1; the headers name two clients.
        using var first = await ConnectThroughBalancerAsync(server, s_client);
        await first.SendRawAsync([.. Request("a0"), .. Request("a1")]);
        await AssertEchoAsync(first, "a0");
        await AssertRateLimitedAsync(first);

        using var other = await ConnectThroughBalancerAsync(server, s_otherClient);
        await ExchangeAsync(other, "b0");

        // The first client again, from another port: same bucket, already empty; and its second connection this second.
        using var again = await ConnectThroughBalancerAsync(server, new IPEndPoint(s_client.Address, 6666));
        await again.SendFrameAsync(Encoding.UTF8.GetBytes("a2"));
        await AssertRateLimitedAsync(again);

        // The balancer's own address is a client of its own, with its own connection bucket.
        using var direct = await server.ConnectAsync();
        await ExchangeAsync(direct, "direct");

        // The first client's third connection within the second is over its connection rate.
        using (var third = await ConnectThroughBalancerAsync(server, new IPEndPoint(s_client.Address, 7777)))
        {
            Frame refusal = await third.ReadRequiredFrameAsync();
            Assert.Equal(FrameStatus.ConnectionLimit, refusal.Status);
            Assert.Equal("connection rate", refusal.Reason);
        }

        Assert.Equal(1, MetricsScrape.Sample(await server.Http.GetStringAsync("/metrics"), "frames_connections_rejected_total{reason=\"connection_rate\"}"));
        Assert.Equal(3, server.Services.GetRequiredService<ClientRateLimiter>().PartitionCount);
    }

    private static Dictionary<string, string?> RequestLimit(int perSecond, int burst) => new()
    {
        ["Frames:RateLimit:RequestsPerSecond"] = perSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Frames:RateLimit:Burst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static byte[] Request(string tag) => FrameTestClient.Encode(Encoding.UTF8.GetBytes(tag));

    private static async Task<FrameTestClient> ConnectThroughBalancerAsync(TestFrameServer server, IPEndPoint client)
    {
        FrameTestClient connection = await server.ConnectAsync();
        await connection.SendRawAsync(ProxyHeaders.V2Proxy(client, s_balancer));
        return connection;
    }

    private static async Task ExchangeAsync(FrameTestClient client, string tag)
    {
        await client.SendFrameAsync(Encoding.UTF8.GetBytes(tag));
        await AssertEchoAsync(client, tag);
    }

    private static async Task AssertEchoAsync(FrameTestClient client, string tag)
    {
        Frame answer = await client.ReadRequiredFrameAsync();
        Assert.False(answer.IsStatus, $"expected the echo of {tag}, got {answer}");
        Assert.Equal(tag, Encoding.UTF8.GetString(answer.Payload));
    }

    private static async Task AssertRateLimitedAsync(FrameTestClient client)
    {
        Frame answer = await client.ReadRequiredFrameAsync();
        Assert.True(answer.IsStatus, $"expected Busy, got {answer}");
        Assert.Equal(FrameStatus.Busy, answer.Status);
        Assert.Equal("rate limit", answer.Reason);
    }
}
