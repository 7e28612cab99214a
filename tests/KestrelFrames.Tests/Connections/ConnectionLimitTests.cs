using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using KestrelFrames.Connections;
using KestrelFrames.Processing;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace KestrelFrames.Tests.Connections;

public sealed class ConnectionLimitTests
{
    private const int FaultLimit = 8;

    private static readonly Dictionary<string, string?> s_faultSettings = new() { ["Frames:MaxConnections"] = "8" };

    [Fact]
    public async Task Connections_over_max_connections_are_answered_connection_limit_and_closed_while_the_rest_are_served()
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:MaxConnections"] = "20" });
        using var closures = new ConnectionClosures(server);

        // All thirty at once; the served ones stay open until every answer is in, so exactly twenty hold a slot.
        (FrameTestClient Client, Frame Answer)[] first = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            FrameTestClient client = await server.ConnectAsync();
            return (client, await ExchangeAsync(client, i));
        }));

        var served = Enumerable.Range(0, first.Length).Where(i => !first[i].Answer.IsStatus).ToList();
        var rejected = first.Where(c => c.Answer.IsStatus).ToList();
        Assert.Equal(20, served.Count);
        Assert.Equal(10, rejected.Count);
        Assert.All(served, i => Assert.Equal(i, Tag(first[i].Answer)));
        Assert.All(rejected, c => Assert.Equal(FrameStatus.ConnectionLimit, c.Answer.Status));
        foreach (var (client, _) in rejected)
        {
            Assert.True(await FrameTestClients.IsClosedAsync(client));
        }

        // The HTTP endpoint is not counted against the frame limit.
        using (HttpResponseMessage ready = await server.Http.GetAsync("/health/ready"))
        using (HttpResponseMessage metrics = await server.Http.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            string text = await metrics.Content.ReadAsStringAsync();
            Assert.Equal(10, MetricsScrape.Sample(text, "frames_connections_rejected_total{reason=\"connection_limit\"}"));
            Assert.Equal(0, MetricsScrape.Sample(text, "frames_connections_rejected_total{reason=\"per_ip_limit\"}"));
            Assert.Equal(20, MetricsScrape.Sample(text, "frames_active_connections"));
        }

        FrameTestClients.DisposeAll(first.Select(c => c.Client));
        await closures.WaitAsync(30);
        Assert.Equal(0, server.Services.GetRequiredService<ConnectionLimiter>().Total);

        // The slots came back: twenty new connections are served, and the limit still holds for the next.
        var again = new List<FrameTestClient>();
        try
        {
            for (int i = 0; i < 20; i++)
            {
                again.Add(await server.ConnectAsync());
                Frame answer = await ExchangeAsync(again[^1], 100 + i);
                Assert.False(answer.IsStatus, $"connection {i} after the first batch left: {answer}");
                Assert.Equal(100 + i, Tag(answer));
            }

            using FrameTestClient extra = await server.ConnectAsync();
            Assert.Equal(FrameStatus.ConnectionLimit, (await ExchangeAsync(extra, 999)).Status);
            Assert.True(await FrameTestClients.IsClosedAsync(extra));
            string after = await server.Http.GetStringAsync("/metrics");
            Assert.Equal(11, MetricsScrape.Sample(after, "frames_connections_rejected_total{reason=\"connection_limit\"}"));
        }
        finally
        {
            FrameTestClients.DisposeAll(again);
        }
    }

    [Fact]
    public async Task The_connection_over_max_connections_per_ip_is_answered_connection_limit_until_one_of_that_address_leaves()
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:MaxConnectionsPerIp"] = "3" });
        using var closures = new ConnectionClosures(server);
        var limiter = server.Services.GetRequiredService<ConnectionLimiter>();
        var open = new List<FrameTestClient>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                open.Add(await server.ConnectAsync());
                Assert.Equal(i, Tag(await ExchangeAsync(open[i], i)));
            }

            using (FrameTestClient fourth = await server.ConnectAsync())
            {
                Assert.Equal(FrameStatus.ConnectionLimit, (await ExchangeAsync(fourth, 3)).Status);
                Assert.True(await FrameTestClients.IsClosedAsync(fourth));
            }

            Assert.Equal(3, limiter.CountFor(IPAddress.Loopback));
            string text = await server.Http.GetStringAsync("/metrics");
            Assert.Equal(1, MetricsScrape.Sample(text, "frames_connections_rejected_total{reason=\"per_ip_limit\"}"));
            Assert.Equal(0, MetricsScrape.Sample(text, "frames_connections_rejected_total{reason=\"connection_limit\"}"));

            open[0].Dispose();
            await closures.WaitAsync(2); // The rejected one and the one that left.
            open[0] = await server.ConnectAsync();
            Assert.Equal(4, Tag(await ExchangeAsync(open[0], 4)));

            using FrameTestClient overAgain = await server.ConnectAsync();
            Assert.Equal(FrameStatus.ConnectionLimit, (await ExchangeAsync(overAgain, 5)).Status);
            Assert.Equal(2, MetricsScrape.Sample(
                await server.Http.GetStringAsync("/metrics"), "frames_connections_rejected_total{reason=\"per_ip_limit\"}"));
        }
        finally
        {
            FrameTestClients.DisposeAll(open);
        }
    }

    [Fact]
    public async Task A_connection_closed_before_sending_a_byte_is_counted_as_a_probe_and_not_as_a_protocol_error()
    {
        await using var server = TestFrameServer.Start();
        using var closures = new ConnectionClosures(server);
        using var starts = new MetricCollector<long>(
            server.Services.GetRequiredService<IMeterFactory>(), "Microsoft.AspNetCore.Server.Kestrel", "kestrel.active_connections");

        // A probe that closes with FIN, one that resets once the server has accepted it, and a real client.
        using (await server.ConnectAsync())
        {
        }

        using (FrameTestClient resetting = await server.ConnectAsync())
        {
            await WaitForFrameConnectionStartsAsync(starts, server.FramesEndPoint.Port, 2);
            resetting.Socket.LingerState = new LingerOption(true, 0);
        }

        using (FrameTestClient real = await server.ConnectAsync())
        {
            Assert.Equal(7, Tag(await ExchangeAsync(real, 7)));
        }

        await closures.WaitAsync(3);
        string text = await server.Http.GetStringAsync("/metrics");

        Assert.Equal(2, MetricsScrape.Sample(text, "frames_connections_probe_total"));
        Assert.Equal(3, MetricsScrape.Sample(text, "frames_connections_total"));
        Assert.Equal(0, MetricsScrape.Sample(text, "frames_active_connections"));
        foreach (string reason in new[] { "frame_too_large", "protocol_error", "frame_timeout", "idle_timeout", "write_timeout" })
        {
            Assert.Equal(0, MetricsScrape.Sample(text, $"frames_protocol_errors_total{{reason=\"{reason}\"}}"));
        }
    }

    [Fact]
    public async Task A_handler_that_throws_on_every_request_leaks_no_connection_slot()
    {
        await using var server = TestFrameServer.Start(s_faultSettings, DelegateFrameHandler.Use(async (_, _) =>
        {
            await Task.Yield();
            throw new InvalidOperationException("injected fault");
        }));

        await AssertEveryRequestFailsAndNothingLeaksAsync(server);
    }

    [Fact]
    public async Task A_handler_that_throws_operation_canceled_leaks_no_connection_slot()
    {
        await using var server = TestFrameServer.Start(s_faultSettings, DelegateFrameHandler.Use((_, _) => throw new OperationCanceledException("injected cancellation")));

        await AssertEveryRequestFailsAndNothingLeaksAsync(server);
    }

    [Fact]
    public async Task Clients_that_reset_mid_request_leak_no_connection_slot_and_no_buffered_bytes()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var allRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int running = 0;
        await using var server = TestFrameServer.Start(s_faultSettings, DelegateFrameHandler.Use(async (frame, cancellationToken) =>
        {
            if (Interlocked.Increment(ref running) == FaultLimit)
            {
                allRunning.TrySetResult();
            }

            // Only the connection's abort can end this wait: the gate opens after the test.
            await gate.Task.WaitAsync(cancellationToken);
            await DelegateFrameHandler.Echo(frame);
        }));
        using var closures = new ConnectionClosures(server);
        var clients = new List<FrameTestClient>();
        try
        {
            for (int i = 0; i < FaultLimit; i++)
            {
                clients.Add(await server.ConnectAsync());

                // A whole request that reaches the handler, then the first bytes of a 100-byte frame.
                await clients[i].SendRawAsync([.. FrameTestClient.Encode(Payload(i)), 0, 0, 0, 100, 1, 2, 3]);
            }

            await allRunning.Task;
            foreach (FrameTestClient client in clients)
            {
                client.Socket.LingerState = new LingerOption(true, 0);
                client.Dispose();
            }

            await AssertNothingLeakedAsync(server, closures, FaultLimit);
        }
        finally
        {
            gate.TrySetResult();
            FrameTestClients.DisposeAll(clients);
        }
    }

    /// <summary>Sends a tagged request and returns the first answer: its echo, or a status.</summary>
    private static async Task<Frame> ExchangeAsync(FrameTestClient client, int tag)
    {
        await client.SendFrameAsync(Payload(tag));
        return await client.ReadRequiredFrameAsync();
    }

    private static byte[] Payload(int tag)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, tag);
        return payload;
    }

    private static int Tag(Frame answer)
    {
        Assert.False(answer.IsStatus, $"expected an echo, got {answer}");
        return BinaryPrimitives.ReadInt32BigEndian(answer.Payload);
    }

    private static async Task AssertEveryRequestFailsAndNothingLeaksAsync(TestFrameServer server)
    {
        using var closures = new ConnectionClosures(server);
        await Task.WhenAll(Enumerable.Range(0, FaultLimit).Select(async c =>
        {
            using FrameTestClient client = await server.ConnectAsync();
            await client.SendRawAsync([.. Enumerable.Range(0, 5).SelectMany(i => FrameTestClient.Encode(Payload((c * 10) + i)))]);
            for (int i = 0; i < 5; i++)
            {
                Frame answer = await client.ReadRequiredFrameAsync();
                Assert.True(answer.IsStatus, $"expected HandlerError, got {answer}");
                Assert.Equal(FrameStatus.HandlerError, answer.Status);
            }
        }));

        string text = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(FaultLimit * 5, MetricsScrape.Sample(text, "frames_requests_total{outcome=\"handler_error\"}"));
        await AssertNothingLeakedAsync(server, closures, FaultLimit);
    }

    /// <summary>
    /// Once <paramref name="closed"/> connections have ended: no connection is counted open anywhere, no request byte
    /// is held, and exactly MaxConnections new connections are served, the next one refused.
    /// </summary>
    private static async Task AssertNothingLeakedAsync(TestFrameServer server, ConnectionClosures closures, int closed)
    {
        await closures.WaitAsync(closed);
        Assert.Equal(0, MetricsScrape.Sample(await server.Http.GetStringAsync("/metrics"), "frames_active_connections"));
        Assert.Equal(0, server.Services.GetRequiredService<ConnectionLimiter>().Total);
        Assert.Equal(0, server.Services.GetRequiredService<BufferBudget>().Used);

        var clients = new List<FrameTestClient>();
        try
        {
            for (int i = 0; i < FaultLimit; i++)
            {
                clients.Add(await server.ConnectAsync());

                // A heartbeat is answered without the (faulty) handler: an empty frame means the connection was accepted.
                await clients[i].SendFrameAsync([]);
                Frame answer = await clients[i].ReadRequiredFrameAsync();
                Assert.False(answer.IsStatus, $"connection {i} of {FaultLimit} was refused: {answer}");
                Assert.Empty(answer.Payload);
            }

            using FrameTestClient overLimit = await server.ConnectAsync();
            await overLimit.SendFrameAsync([]);
            Assert.Equal(FrameStatus.ConnectionLimit, (await overLimit.ReadRequiredFrameAsync()).Status);
        }
        finally
        {
            FrameTestClients.DisposeAll(clients);
        }
    }

    private static async Task WaitForFrameConnectionStartsAsync(MetricCollector<long> starts, int port, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int seen = 0;
        while (starts.GetMeasurementSnapshot().Count(m => m.Value > 0 && IsPort(m, port)) < count)
        {
            seen++;
            await starts.WaitForMeasurementsAsync(seen, timeout.Token);
        }
    }

    private static bool IsPort(CollectedMeasurement<long> measurement, int port) =>
        measurement.Tags.TryGetValue("server.port", out object? value) && Convert.ToInt32(value, CultureInfo.InvariantCulture) == port;
}
