using System.Diagnostics.Metrics;
using KestrelFrames.Observability;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using static KestrelFrames.Tests.Infrastructure.MetricsScrape;

namespace KestrelFrames.Tests.Observability;

public sealed class MetricsTests
{
    [Fact]
    public async Task A_hundred_echoes_move_the_request_byte_and_duration_series_by_exactly_a_hundred()
    {
        await using var server = TestFrameServer.Start();
        using var client = await server.ConnectAsync();

        for (int i = 0; i < 100; i++)
        {
            await client.SendFrameAsync(new byte[10]);
            await client.ReadRequiredFrameAsync();
        }

        string text = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(1, Sample(text, "frames_active_connections"));
        Assert.Equal(100, Sample(text, "frames_requests_total{outcome=\"ok\"}"));
        Assert.Equal(0, Sample(text, "frames_requests_total{outcome=\"busy\"}"));
        Assert.Equal(100, Sample(text, "frames_request_duration_seconds_count"));
        Assert.Equal(100 * 14, Sample(text, "frames_received_bytes_total"));
        Assert.Equal(100 * 14, Sample(text, "frames_sent_bytes_total"));
        Assert.Equal(1, Sample(text, "frames_connections_total"));
        Assert.Equal(0, Sample(text, "frames_inflight_requests"));
        Assert.Equal(0, Sample(text, "frames_draining"));
    }

    [Fact]
    public async Task Requests_held_by_the_handler_show_as_in_flight_busy_workers_and_queue_length()
    {
        var gated = new GatedEcho();
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:Workers"] = "1" }, gated.Handler);
        var clients = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => server.ConnectAsync()));
        await clients[0].SendFrameAsync("a"u8);
        await gated.FirstCall;
        foreach (var client in clients.Skip(1))
        {
            await client.SendFrameAsync("b"u8);
        }

        // Four requests wait for the one worker; there is no event for "queued", so ask until they are.
        string text = await ScrapeUntilAsync(server, t => Sample(t, "frames_worker_queue_length") == 4);
        Assert.Equal(4, Sample(text, "frames_worker_queue_length"));
        Assert.Equal(5, Sample(text, "frames_inflight_requests"));
        Assert.Equal(1, Sample(text, "frames_workers_busy"));

        gated.Open();
        foreach (var client in clients)
        {
            await client.ReadRequiredFrameAsync();
            client.Dispose();
        }

        text = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(0, Sample(text, "frames_inflight_requests"));
        Assert.Equal(0, Sample(text, "frames_worker_queue_length"));
    }

    [Fact]
    public async Task The_transport_pool_reports_the_block_a_partial_frame_holds_as_rented_and_returned_blocks_as_pooled()
    {
        await using var server = TestFrameServer.Start();
        string before = await server.Http.GetStringAsync("/metrics");
        using (var client = await server.ConnectAsync())
        {
            // Half of a 20 KB frame: the server keeps it in a transport block until the rest arrives.
            await client.SendRawAsync([.. FrameTestClient.Encode(new byte[20_000]).AsSpan(0, 10_000)]);
            await ScrapeUntilAsync(server, t => Sample(t, "frames_memory_pool_bytes{state=\"rented\"}") >= Sample(before, "frames_memory_pool_bytes{state=\"rented\"}") + 32 * 1024);
        }

        // The block comes back to the pool when the connection closes; it is kept there for reuse.
        await ScrapeUntilAsync(server, t => Sample(t, "frames_memory_pool_bytes{state=\"pooled\"}") >= 32 * 1024);
    }

    [Fact]
    public async Task Draining_reads_one_from_the_moment_shutdown_begins()
    {
        // A drain delay on a fake clock holds the server in its first shutdown step until the test moves it.
        var time = new FakeTimeProvider();
        var logs = new LogWaiter();
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?> { ["Frames:DrainDelay"] = "00:00:05" }, logs.Register, time);
        Assert.Equal(0, Sample(await server.Http.GetStringAsync("/metrics"), "frames_draining"));

        server.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        Assert.Equal(1, Sample(await server.Http.GetStringAsync("/metrics"), "frames_draining"));
        await logs.WaitForAsync("serving for 5 s more");
        time.Advance(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Kestrel_and_runtime_meters_are_on_metrics_too()
    {
        await using var server = TestFrameServer.Start();
        using var client = await server.ConnectAsync();
        await client.SendFrameAsync("x"u8);
        await client.ReadRequiredFrameAsync();

        string text = await server.Http.GetStringAsync("/metrics");

        Assert.Contains($"microsoft_aspnetcore_server_kestrel_kestrel_active_connections{{network_transport=\"tcp\",network_type=\"ipv4\",server_address=\"127.0.0.1\",server_port=\"{server.FramesEndPoint.Port}\"}} 1", text, StringComparison.Ordinal);
        Assert.Contains("system_runtime_dotnet_gc_heap_total_allocated", text, StringComparison.Ordinal);
        Assert.Contains("# HELP frames_requests_total ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_configured_limits_and_the_build_are_on_metrics()
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?>
        {
            ["Frames:MaxConnections"] = "123",
            ["Frames:Workers"] = "7",
            ["Frames:QueueCapacity"] = "99",
            ["Frames:MaxBufferedBytes"] = "1048576",
            ["Frames:MaxInFlightPerConnection"] = "5",
        });

        string text = await server.Http.GetStringAsync("/metrics");

        Assert.Equal(123, Sample(text, "frames_max_connections"));
        Assert.Equal(7, Sample(text, "frames_workers"));
        Assert.Equal(99, Sample(text, "frames_worker_queue_capacity"));
        Assert.Equal(1048576, Sample(text, "frames_max_buffered_bytes"));
        Assert.Equal(5, Sample(text, "frames_max_inflight_per_connection"));
        (string version, string commit) = KestrelFrames.Hosting.FrameGauges.BuildVersion();
        Assert.Equal(1, Sample(text, $"frames_build_info{{version=\"{version}\",commit=\"{commit}\",runtime=\"{Environment.Version}\"}}"));
    }

    [Fact]
    public async Task The_standard_process_series_count_what_the_kernel_counts()
    {
        await using var server = TestFrameServer.Start();
        using var client = await server.ConnectAsync();

        string text = await server.Http.GetStringAsync("/metrics");

        // Descriptors move with the test run's other servers: bounded by the kernel's own count before and after.
        long fdsBefore = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        double fds = Sample(await server.Http.GetStringAsync("/metrics"), "process_open_fds");
        long fdsAfter = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        Assert.InRange(fds, Math.Min(fdsBefore, fdsAfter) - 50, Math.Max(fdsBefore, fdsAfter) + 50);
        string limits = File.ReadAllLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        Assert.Equal(double.Parse(limits.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], System.Globalization.CultureInfo.InvariantCulture), Sample(text, "process_max_fds"));
        Assert.InRange(Sample(text, "process_resident_memory_bytes"), Environment.WorkingSet / 2, Environment.WorkingSet * 2);
        Assert.True(Sample(text, "process_virtual_memory_bytes") > Sample(text, "process_resident_memory_bytes"));
        Assert.InRange(Sample(text, "process_cpu_seconds_total"), 0.01, Environment.CpuUsage.TotalTime.TotalSeconds);
        double start = Sample(text, "process_start_time_seconds");
        Assert.InRange(start, DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.True(Sample(text, "system_runtime_dotnet_thread_pool_threads") >= 1);
    }

    [Fact]
    public async Task The_kestrelframes_meter_reports_the_same_request_count_for_opentelemetry_and_dotnet_counters()
    {
        await using var server = TestFrameServer.Start();
        using var requests = new MetricCollector<long>(server.Services.GetRequiredService<IMeterFactory>(), FrameMetrics.MeterName, "frames.requests");
        using var client = await server.ConnectAsync();

        for (int i = 0; i < 7; i++)
        {
            await client.SendFrameAsync("x"u8);
            await client.ReadRequiredFrameAsync();
        }

        requests.RecordObservableInstruments();
        Assert.Contains(requests.GetMeasurementSnapshot(), m => m.Value == 7 && Equals(m.Tags["outcome"], "ok"));
    }
}
