using System.Buffers;
using System.Net;
using System.Net.Sockets;
using KestrelFrames.Bench;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Bench;

/// <summary>The load generator's engine, in-process against the real server. Durations are load lengths, not timing assertions.</summary>
[Collection(BenchLoad.Name)]
public sealed class BenchRunnerTests
{
    private static readonly TimeSpan s_duration = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan s_warmup = TimeSpan.FromMilliseconds(100);

    [Theory]
    [InlineData(4, 1, 64)]
    [InlineData(4, 16, 64)]
    [InlineData(2, 4, 3)]
    [InlineData(2, 4, 20_000)]
    public async Task Against_the_echo_server_every_answer_verifies(int connections, int depth, int size)
    {
        await using var server = TestFrameServer.Start();

        BenchResult result = await BenchLoad.RunAsync(Options(server, connections, depth, size), r => r.Requests > 0);

        Assert.True(result.Requests > 0, "no request was answered");
        Assert.Equal(0, result.Errors);
        Assert.Empty(result.ErrorsByCode);
        Assert.Equal(0, result.Mismatches);
        Assert.Equal(0, result.FailedConnects);
        Assert.Equal(connections, result.Connected);
        Assert.Equal(BenchResult.ExitOk, result.ExitCode);
        Assert.Null(result.FirstError);

        // Every answer counted in the window has its latency in the histogram, and payload bytes match the count.
        Assert.Equal(result.Requests, result.Latency.Samples);
        Assert.True(result.Latency.P50 > 0 && result.Latency.P50 <= result.Latency.P99 && result.Latency.P99 <= result.Latency.Max);
        double megabytesPerSecond = result.Requests * (double)size / result.DurationSeconds / 1e6;
        Assert.InRange(result.RxMegabytesPerSecond, megabytesPerSecond * 0.99, (megabytesPerSecond * 1.01) + 0.001);
        Assert.Equal("closed", result.Mode);
    }

    [Fact]
    public async Task Heartbeats_of_size_zero_are_answered_empty_and_verify()
    {
        await using var server = TestFrameServer.Start();

        BenchResult result = await BenchLoad.RunAsync(Options(server, connections: 2, depth: 8, size: 0), r => r.Requests > 0);

        Assert.True(result.Requests > 0);
        Assert.Equal(0, result.Errors);
        Assert.Equal(0, result.Mismatches);
    }

    [Fact]
    public async Task A_server_that_corrupts_one_byte_produces_mismatches()
    {
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use((frame, _) =>
        {
            byte[] answer = frame.Request.ToArray();
            answer[^1] ^= 0x01;
            frame.Response.Write(answer);
            return ValueTask.CompletedTask;
        }));

        BenchResult result = await BenchLoad.RunAsync(Options(server, connections: 2, depth: 4, size: 64), r => r.Requests > 0);

        Assert.True(result.Mismatches > 0, "a corrupted echo was not noticed");
        Assert.Equal(0, result.Errors);
        Assert.Equal(BenchResult.ExitMismatches, result.ExitCode);
        Assert.Contains("first difference at byte 63", result.FirstMismatch, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_verify_a_corrupting_server_is_not_a_mismatch()
    {
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use((frame, _) =>
        {
            byte[] answer = frame.Request.ToArray();
            answer[0] ^= 0x01;
            frame.Response.Write(answer);
            return ValueTask.CompletedTask;
        }));

        BenchResult result = await BenchLoad.RunAsync(Options(server, connections: 2, depth: 4, size: 64) with { Verify = false }, r => r.Requests > 0);

        Assert.True(result.Requests > 0);
        Assert.Equal(0, result.Mismatches);
        Assert.Equal(BenchResult.ExitOk, result.ExitCode);
    }

    [Fact]
    public async Task Busy_statuses_from_a_shedding_server_are_counted_by_code()
    {
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?>
            {
                ["Frames:OverloadMode"] = "Shed",
                ["Frames:Workers"] = "1",
                ["Frames:QueueCapacity"] = "1",
            },
            DelegateFrameHandler.Use(async (frame, cancellationToken) =>
            {
                await Task.Delay(2, cancellationToken);
                frame.Response.Write(frame.Request.Span);
            }));

        BenchResult result = await BenchLoad.RunAsync(Options(server, connections: 4, depth: 8, size: 64), r => r.ErrorsByCode.ContainsKey("Busy"));

        Assert.True(result.ErrorsByCode.GetValueOrDefault("Busy") > 0, "no Busy was counted: " + string.Join(", ", result.ErrorsByCode));
        Assert.Equal(result.Errors, result.ErrorsByCode.Values.Sum());
        Assert.Equal(0, result.Mismatches);
        Assert.Equal(BenchResult.ExitErrors, result.ExitCode);
        Assert.Contains("Busy", result.FirstError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_open_loop_sends_at_about_the_requested_rate()
    {
        await using var server = TestFrameServer.Start();
        const double rate = 2000;
        var duration = TimeSpan.FromSeconds(1);

        double expected = rate * duration.TotalSeconds;
        BenchResult result = await BenchLoad.RunAsync(
            Options(server, connections: 4, depth: 1, size: 64) with { Rate = rate, Duration = duration, Warmup = TimeSpan.FromMilliseconds(200) },
            r => r.Requests >= expected * 0.5 && r.Requests <= expected * 1.5);

        Assert.InRange(result.Requests, (long)(expected * 0.5), (long)(expected * 1.5));
        Assert.InRange(result.Sent, (long)(expected * 0.5), (long)(expected * 1.5));
        Assert.InRange(result.Scheduled!.Value, (long)(expected * 0.95), (long)(expected * 1.05));
        Assert.Equal("open", result.Mode);
        Assert.NotNull(result.SendLag);
        Assert.Equal(0, result.Errors);
        Assert.Equal(0, result.Mismatches);
    }

    [Fact]
    public async Task Over_tls_with_a_self_signed_certificate_insecure_mode_connects_and_verifies()
    {
        using var certificate = new TestCertificate();
        await using var server = TestFrameServer.Start(certificate.FramesTlsSettings());

        BenchResult result = await BenchLoad.RunAsync(Options(server, connections: 2, depth: 4, size: 64) with { Tls = true, TlsInsecure = true }, r => r.Requests > 0);

        Assert.True(result.Tls);
        Assert.True(result.Requests > 0);
        Assert.Equal(0, result.Errors);
        Assert.Equal(0, result.Mismatches);
        Assert.Equal(BenchResult.ExitOk, result.ExitCode);
    }

    [Fact]
    public async Task Over_tls_an_untrusted_certificate_is_a_failed_connect()
    {
        using var certificate = new TestCertificate();
        await using var server = TestFrameServer.Start(certificate.FramesTlsSettings());

        BenchResult result = await BenchRunner.RunAsync(Options(server, connections: 2, depth: 1, size: 64) with { Tls = true });

        Assert.Equal(2, result.FailedConnects);
        Assert.Equal(0, result.Connected);
        Assert.Equal(BenchResult.ExitErrors, result.ExitCode);
        Assert.StartsWith("connect:", result.FirstError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_listening_counts_failed_connects_and_exits_2()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        BenchResult result = await BenchRunner.RunAsync(new BenchOptions
        {
            Port = port,
            Connections = 3,
            Duration = s_duration,
            Warmup = TimeSpan.Zero,
        });

        Assert.Equal(3, result.FailedConnects);
        Assert.Equal(0, result.Requests);
        Assert.Equal(BenchResult.ExitErrors, result.ExitCode);
    }

    [Fact]
    public async Task A_server_closing_connections_mid_run_is_counted_once_per_connection()
    {
        // Every connection is refused with ConnectionLimit after the first one.
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:MaxConnections"] = "1" });

        // A status counts when it arrives inside the run's window: take a window long enough to see them.
        BenchResult result = await BenchLoad.RunAsync(
            Options(server, connections: 3, depth: 2, size: 64) with { Duration = TimeSpan.FromSeconds(1) },
            r => r.Requests > 0 && r.Errors >= 2);

        Assert.Equal(2, result.ErrorsByCode.GetValueOrDefault("ConnectionLimit"));
        Assert.Equal(2, result.Errors);
        Assert.True(result.Requests > 0, "the connection that was accepted should carry on");
        Assert.Equal(BenchResult.ExitErrors, result.ExitCode);
    }

    [Fact]
    public async Task Cancelling_ends_the_window_early_and_still_reports()
    {
        await using var server = TestFrameServer.Start();
        BenchResult result = null!;
        for (int attempt = 0; attempt < 3 && result?.Requests is null or 0; attempt++)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(600));
            result = await BenchRunner.RunAsync(Options(server, connections: 2, depth: 2, size: 64) with { Duration = TimeSpan.FromMinutes(5) }, cancel.Token);
        }

        Assert.True(result.DurationSeconds < 60, $"window of {result.DurationSeconds} s was not cut short");
        Assert.True(result.Requests > 0);
        Assert.Equal(0, result.Errors);
    }

    [Fact]
    public async Task Invalid_options_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => BenchRunner.RunAsync(new BenchOptions { Connections = 0 }));
        await Assert.ThrowsAsync<ArgumentException>(() => BenchRunner.RunAsync(new BenchOptions { Size = 100, MaxFrame = 10 }));
        await Assert.ThrowsAsync<ArgumentException>(() => BenchRunner.RunAsync(new BenchOptions { Rate = -1 }));
    }

    private static BenchOptions Options(TestFrameServer server, int connections, int depth, int size) => new()
    {
        Host = server.FramesEndPoint.Address.ToString(),
        Port = server.FramesEndPoint.Port,
        Connections = connections,
        Depth = depth,
        Size = size,
        Duration = s_duration,
        Warmup = s_warmup,
        Verify = true,
    };
}
