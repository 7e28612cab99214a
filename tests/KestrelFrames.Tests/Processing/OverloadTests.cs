using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using KestrelFrames.Processing;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Processing;

public sealed class OverloadTests
{
    private const int Burst = 50;

    [Fact]
    public async Task In_shed_mode_requests_that_find_the_queue_full_are_answered_busy_in_order_and_never_run()
    {
        var gated = new GatedHandler();
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?>
            {
                ["Frames:OverloadMode"] = "Shed",
                ["Frames:Workers"] = "1",
                ["Frames:QueueCapacity"] = "1",
            },
            DelegateFrameHandler.Use(gated.HandleAsync));
        using var running = await server.ConnectAsync();
        using var queued = await server.ConnectAsync();
        using var shed = await server.ConnectAsync();

        // The only worker waits on the gate with the first request; the second fills the queue.
        await running.SendRawAsync(EncodeBurst(1));
        await gated.FirstCall;
        await queued.SendRawAsync(EncodeBurst(1));
        await MetricsScrape.ScrapeUntilAsync(server, text => MetricsScrape.Sample(text, "frames_worker_queue_length") == 1);

        // A burst beyond the ring (32) arrives as several batches; each finds the queue full. The gate is still
        // closed, so these answers cannot have waited for the pool.
        await shed.SendRawAsync(EncodeBurst(Burst));
        for (int i = 0; i < Burst; i++)
        {
            Frame answer = await shed.ReadRequiredFrameAsync();
            Assert.True(answer.IsStatus, $"request {i} was not shed: {answer}");
            Assert.Equal(FrameStatus.Busy, answer.Status);
        }

        gated.Open();
        Assert.Equal(0, Index(await running.ReadRequiredFrameAsync()));
        Assert.Equal(0, Index(await queued.ReadRequiredFrameAsync()));

        // Nothing answered twice: after the fifty answers there is only the close.
        shed.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        Assert.True(await shed.IsClosedByServerAsync());
        Assert.Equal(2, gated.Seen.Count());
        string text = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(Burst, MetricsScrape.Sample(text, "frames_requests_total{outcome=\"busy\"}"));
        Assert.Equal(2, MetricsScrape.Sample(text, "frames_requests_total{outcome=\"ok\"}"));
    }

    [Fact]
    public async Task In_backpressure_mode_a_burst_beyond_the_pool_waits_and_every_request_is_echoed_in_order()
    {
        var gated = new GatedHandler();
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?> { ["Frames:Workers"] = "1", ["Frames:QueueCapacity"] = "1" },
            DelegateFrameHandler.Use(gated.HandleAsync));
        using var client = await server.ConnectAsync();

        await client.SendRawAsync(EncodeBurst(Burst));
        await gated.FirstCall;
        gated.Open();

        for (int i = 0; i < Burst; i++)
        {
            Frame answer = await client.ReadRequiredFrameAsync();
            Assert.False(answer.IsStatus, $"request {i} was answered {answer}");
            Assert.Equal(i, Index(answer));
        }

        Assert.Equal(Enumerable.Range(0, Burst), gated.Seen.Order());
        string text = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(0, MetricsScrape.Sample(text, "frames_requests_total{outcome=\"busy\"}"));
        Assert.Equal(Burst, MetricsScrape.Sample(text, "frames_requests_total{outcome=\"ok\"}"));
    }

    [Fact]
    public async Task A_connection_never_has_more_than_max_in_flight_requests_in_the_handler_at_once()
    {
        const int maxInFlight = 4;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var limitReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long inProgress = 0;
        long maxInProgress = 0;
        int entered = 0;
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?> { ["Frames:MaxInFlightPerConnection"] = "4" },
            DelegateFrameHandler.Use(async (frame, _) =>
            {
                AtomicMax.Raise(ref maxInProgress, Interlocked.Increment(ref inProgress));
                if (Interlocked.Increment(ref entered) == maxInFlight)
                {
                    limitReached.TrySetResult();
                }

                await gate.Task;
                Interlocked.Decrement(ref inProgress);
                await DelegateFrameHandler.Echo(frame);
            }));
        using var client = await server.ConnectAsync();

        // With 64 workers free, only the connection's own limit keeps the other 46 out of the handler.
        await client.SendRawAsync(EncodeBurst(Burst));
        await limitReached.Task;
        gate.SetResult();

        for (int i = 0; i < Burst; i++)
        {
            Assert.Equal(i, Index(await client.ReadRequiredFrameAsync()));
        }

        Assert.Equal(maxInFlight, Volatile.Read(ref maxInProgress));
        Assert.Equal(Burst, Volatile.Read(ref entered));
    }

    [Fact]
    public async Task Requests_on_many_connections_never_hold_more_than_max_buffered_bytes_and_are_all_answered()
    {
        const int connections = 8;
        const int perConnection = 4;
        const int size = 1024;
        const int limit = 4096;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var budgetFull = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        BufferBudget budget = null!; // Set before any client connects.
        long maxUsed = 0;
        long inProgress = 0;
        long maxInProgress = 0;
        int entered = 0;
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?> { ["Frames:MaxFrameSize"] = "1024", ["Frames:MaxBufferedBytes"] = "4096" },
            DelegateFrameHandler.Use(async (frame, _) =>
            {
                AtomicMax.Raise(ref maxUsed, budget.Used);
                AtomicMax.Raise(ref maxInProgress, Interlocked.Increment(ref inProgress));
                if (Interlocked.Increment(ref entered) == limit / size)
                {
                    budgetFull.TrySetResult();
                }

                await gate.Task;
                AtomicMax.Raise(ref maxUsed, budget.Used);
                Interlocked.Decrement(ref inProgress);
                await DelegateFrameHandler.Echo(frame);
            }));
        budget = server.Services.GetRequiredService<BufferBudget>();
        using var closures = new ConnectionClosures(server);

        byte[][][] payloads = [.. Enumerable.Range(0, connections).Select(c => Enumerable.Range(0, perConnection).Select(i =>
        {
            byte[] payload = TestPayloads.Random(size, (c * perConnection) + i);
            BinaryPrimitives.WriteInt32BigEndian(payload, (c * perConnection) + i);
            return payload;
        }).ToArray())];
        FrameTestClient[] clients = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => server.ConnectAsync()));
        try
        {
            await Task.WhenAll(clients.Select((client, c) => client.SendRawAsync([.. payloads[c].SelectMany(p => FrameTestClient.Encode(p))])));

            // Four 1 KiB requests fill the 4 KiB budget; the other 28 wait for it with 64 workers idle. While they
            // wait, the budget is also sampled here, a fixed number of times: a waiter must not even briefly count
            // bytes that do not fit.
            await budgetFull.Task;
            long usedWhileFull = 0;
            for (int sample = 0; sample < 1_000_000; sample++)
            {
                usedWhileFull = Math.Max(usedWhileFull, budget.Used);
            }

            AtomicMax.Raise(ref maxUsed, usedWhileFull);
            gate.TrySetResult();

            await Task.WhenAll(clients.Select(async (client, c) =>
            {
                for (int i = 0; i < perConnection; i++)
                {
                    Frame answer = await client.ReadRequiredFrameAsync();
                    Assert.False(answer.IsStatus, $"request {i} of connection {c} was answered {answer}");
                    Assert.Equal(payloads[c][i], answer.Payload);
                }
            }));
        }
        finally
        {
            gate.TrySetResult();
            FrameTestClients.DisposeAll(clients);
        }

        long peak = Interlocked.Read(ref maxUsed);
        Assert.True(peak is >= size and <= limit, $"BufferBudget.Used reached {peak} with MaxBufferedBytes {limit}");
        Assert.Equal(limit / size, Volatile.Read(ref maxInProgress));
        Assert.Equal(connections * perConnection, Volatile.Read(ref entered));
        await closures.WaitAsync(connections);
        Assert.Equal(0, budget.Used);
    }

    [Fact]
    public async Task Health_probes_are_answered_while_two_hundred_connections_keep_every_worker_busy()
    {
        const int connections = 200;
        const int requests = 20;
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use(async (frame, cancellationToken) =>
        {
            await Task.Delay(20, cancellationToken);
            await DelegateFrameHandler.Echo(frame);
        }));
        var fiveProbes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var loadDone = new CancellationTokenSource();
        int probes = 0;

        async Task ProbeUntilLoadIsDoneAsync()
        {
            while (!loadDone.IsCancellationRequested)
            {
                using HttpResponseMessage response = await server.Http.GetAsync("/health/live", CancellationToken.None);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                if (Interlocked.Increment(ref probes) >= 5)
                {
                    fiveProbes.TrySetResult();
                }
            }
        }

        Task probing = ProbeUntilLoadIsDoneAsync();
        Task load = Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            using FrameTestClient client = await server.ConnectAsync();
            for (int i = 0; i < requests; i++)
            {
                if (i == requests - 1)
                {
                    // No connection finishes before five probes have been answered: they interleave with the load.
                    // A failed probe ends the wait too, and fails the test below.
                    await await Task.WhenAny(fiveProbes.Task, probing);
                }

                byte[] payload = BitConverter.GetBytes((c * 1000) + i);
                await client.SendFrameAsync(payload);
                Frame answer = await client.ReadRequiredFrameAsync();
                Assert.False(answer.IsStatus, $"request {i} of connection {c} was answered {answer}");
                Assert.Equal(payload, answer.Payload);
            }
        }));

        try
        {
            await load;
        }
        finally
        {
            await loadDone.CancelAsync();
        }

        await probing;
        Assert.True(Volatile.Read(ref probes) >= 5);
        Assert.Equal(connections * requests, MetricsScrape.Sample(
            await server.Http.GetStringAsync("/metrics"), "frames_requests_total{outcome=\"ok\"}"));
    }

    private static byte[] EncodeBurst(int count) =>
        [.. Enumerable.Range(0, count).SelectMany(i =>
        {
            var payload = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(payload, i);
            return FrameTestClient.Encode(payload);
        })];

    private static int Index(Frame answer)
    {
        Assert.False(answer.IsStatus, $"expected an echo, got {answer}");
        return BinaryPrimitives.ReadInt32BigEndian(answer.Payload);
    }

    /// <summary>A handler that records each request's index and holds every call until the test opens the gate.</summary>
    private sealed class GatedHandler
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _firstCall = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<int> _seen = new();

        public Task FirstCall => _firstCall.Task;

        public IEnumerable<int> Seen => _seen;

        public void Open() => _gate.SetResult();

        public async ValueTask HandleAsync(FrameContext frame, CancellationToken cancellationToken)
        {
            _seen.Enqueue(BinaryPrimitives.ReadInt32BigEndian(frame.Request.Span));
            _firstCall.TrySetResult();
            await _gate.Task;
            await DelegateFrameHandler.Echo(frame);
        }
    }
}
