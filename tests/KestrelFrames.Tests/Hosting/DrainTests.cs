using System.Collections.Concurrent;
using System.Net;
using KestrelFrames.Connections;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Hosting;

public sealed class DrainTests
{
    [Fact]
    public async Task Stopping_with_pipelined_requests_in_flight_answers_each_one_or_leaves_it_unprocessed()
    {
        const int Connections = 64;
        const int Depth = 16;
        var ran = new ConcurrentDictionary<string, int>();
        var firstRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use(async (frame, _) =>
        {
            ran.AddOrUpdate(System.Text.Encoding.UTF8.GetString(frame.Request.Span), 1, (_, n) => n + 1);
            firstRan.TrySetResult();
            await Task.Delay(50, CancellationToken.None);
            await DelegateFrameHandler.Echo(frame);
        }));
        var clients = await Task.WhenAll(Enumerable.Range(0, Connections).Select(_ => server.ConnectAsync()));
        for (int c = 0; c < Connections; c++)
        {
            await clients[c].SendRawAsync([.. Enumerable.Range(0, Depth).SelectMany(i => FrameTestClient.Encode(Tag(c, i)))]);
        }

        await firstRan.Task;
        Task stopping = server.StopAsync();

        int answered = 0;
        int toResend = 0;
        for (int c = 0; c < Connections; c++)
        {
            int i = 0;
            Frame frame;
            while (!(frame = await clients[c].ReadRequiredFrameAsync()).IsStatus)
            {
                Assert.Equal(Tag(c, i), frame.Payload); // Each answer is the right echo, in order.
                i++;
            }

            Assert.Equal(FrameStatus.ShuttingDown, frame.Status);
            Assert.True(await clients[c].IsClosedByServerAsync()); // Nothing follows ShuttingDown.
            answered += i;
            toResend += Depth - i;

            // What the client must resend is exactly what never ran: nothing was processed and left unanswered.
            for (int j = 0; j < Depth; j++)
            {
                int expectedRuns = j < i ? 1 : 0;
                Assert.Equal(expectedRuns, ran.GetValueOrDefault(System.Text.Encoding.UTF8.GetString(Tag(c, j))));
            }

            clients[c].Dispose();
        }

        await stopping;
        Assert.Equal(Connections * Depth, answered + toResend);
        Assert.True(answered > 0);
    }

    [Fact]
    public async Task Readiness_fails_at_once_while_the_listener_keeps_serving_through_the_drain_delay()
    {
        var time = new FakeTimeProvider();
        var logs = new LogWaiter();
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?> { ["Frames:DrainDelay"] = "00:00:05" }, logs.Register, time);
        using var before = await server.ConnectAsync();

        server.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await server.Http.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await server.Http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/health/live")).StatusCode);

        Task stopping = server.StopAsync();
        await logs.WaitForAsync("serving for 5 s more");

        // Still inside the delay: an existing and a new connection are both served normally.
        using var during = await server.ConnectAsync();
        await during.SendFrameAsync("new"u8);
        Assert.Equal("new"u8.ToArray(), (await during.ReadRequiredFrameAsync()).Payload);
        await before.SendFrameAsync("old"u8);
        Assert.Equal("old"u8.ToArray(), (await before.ReadRequiredFrameAsync()).Payload);

        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(FrameStatus.ShuttingDown, (await before.ReadRequiredFrameAsync()).Status);
        Assert.Equal(FrameStatus.ShuttingDown, (await during.ReadRequiredFrameAsync()).Status);

        // Clients leave when told to; until they do, the server lingers on the fake clock.
        before.Dispose();
        during.Dispose();
        await stopping;
        Assert.Contains(logs.Lines, l => l.Contains("Drained 2 frame connections", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_idle_client_is_told_to_leave_at_once_while_a_busy_one_finishes_its_request()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use(async (frame, _) =>
        {
            started.TrySetResult();
            await gate.Task;
            await DelegateFrameHandler.Echo(frame);
        }));
        using var idle = await server.ConnectAsync();
        using var busy = await server.ConnectAsync();
        await idle.SendFrameAsync([]);
        await idle.ReadRequiredFrameAsync();
        await busy.SendFrameAsync("work"u8);
        await started.Task;

        Task stopping = server.StopAsync();

        // The idle client does not hold the shutdown: it is told to leave while the busy request still runs.
        Assert.Equal(FrameStatus.ShuttingDown, (await idle.ReadRequiredFrameAsync()).Status);
        Assert.True(await idle.IsClosedByServerAsync());
        Assert.False(stopping.IsCompleted);

        gate.SetResult();
        Assert.Equal("work"u8.ToArray(), (await busy.ReadRequiredFrameAsync()).Payload);
        Assert.Equal(FrameStatus.ShuttingDown, (await busy.ReadRequiredFrameAsync()).Status);
        await stopping;
    }

    [Fact]
    public async Task A_connection_accepted_while_draining_gets_shutting_down_at_once()
    {
        await using var server = TestFrameServer.Start();
        server.Services.GetRequiredService<FrameServerState>().BeginDraining(0);

        using var late = await server.ConnectAsync();

        Assert.Equal(FrameStatus.ShuttingDown, (await late.ReadRequiredFrameAsync()).Status);
        Assert.True(await late.IsClosedByServerAsync());
    }

    [Fact]
    public async Task A_handler_that_never_finishes_is_cancelled_at_the_shutdown_timeout_and_the_server_still_stops()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var logs = new LogWaiter();
        await using var server = TestFrameServer.Start(services: services =>
        {
            logs.Register(services);
            services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
            DelegateFrameHandler.Use(async (_, ct) =>
            {
                using var registration = ct.Register(() => cancelled.TrySetResult());
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            })(services);
        });
        using var client = await server.ConnectAsync();
        await client.SendFrameAsync("forever"u8);
        await started.Task;

        await server.StopAsync();

        await cancelled.Task;
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            // The connection was aborted: no answer and no ShuttingDown, just the end of the stream.
            Frame? frame = await client.ReadFrameAsync();
            Assert.Null(frame);
            throw new EndOfStreamException();
        });
        Assert.True(logs.Lines.Any(l => l.Contains("Shutdown timeout reached", StringComparison.Ordinal) && l.Contains("1 requests unanswered", StringComparison.Ordinal)), string.Join("\n", logs.Lines));
    }

    private static byte[] Tag(int connection, int index) => System.Text.Encoding.UTF8.GetBytes($"{connection}:{index}");
}
