using System.Buffers;
using System.Globalization;
using System.Text.Json;
using KestrelFrames.Bench;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Bench;

[Collection(BenchLoad.Name)]
public sealed class BenchCliTests
{
    [Fact]
    public void Defaults_match_the_documented_ones()
    {
        var cli = new BenchCli();

        BenchOptions options = cli.Bind(cli.Root.Parse([]));

        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(9000, options.Port);
        Assert.Equal(64, options.Connections);
        Assert.Equal(1, options.Depth);
        Assert.Equal(64, options.Size);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Duration);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Warmup);
        Assert.Null(options.Rate);
        Assert.False(options.Tls);
        Assert.False(options.Verify);
        Assert.Equal(16 * 1024 * 1024, options.MaxFrame);
    }

    [Fact]
    public void Every_option_parses()
    {
        var cli = new BenchCli();
        var parse = cli.Root.Parse([
            "--host", "::1", "--port", "19900", "--connections", "8", "--depth", "32", "--size", "1024",
            "--duration", "1.5s", "--warmup", "250ms", "--rate", "50000", "--tls-insecure", "--verify", "--json", "--max-frame", "2048",
        ]);

        Assert.Empty(parse.Errors);
        BenchOptions options = cli.Bind(parse);
        Assert.Equal("::1", options.Host);
        Assert.Equal(19900, options.Port);
        Assert.Equal(8, options.Connections);
        Assert.Equal(32, options.Depth);
        Assert.Equal(1024, options.Size);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.Duration);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.Warmup);
        Assert.Equal(50000, options.Rate);
        Assert.True(options.Tls, "--tls-insecure implies --tls");
        Assert.True(options.TlsInsecure);
        Assert.True(options.Verify);
        Assert.Equal(2048, options.MaxFrame);
    }

    [Theory]
    [InlineData("10s", 10_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5m", 90_000)]
    [InlineData("250us", 0.25)]
    [InlineData("3", 3_000)]
    [InlineData("00:00:02", 2_000)]
    public void Durations_take_go_style_units(string text, double milliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out TimeSpan value));
        Assert.Equal(milliseconds, value.TotalMilliseconds, 6);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5x")]
    [InlineData("s")]
    [InlineData("NaNs")]
    public void Bad_durations_are_refused(string text) => Assert.False(DurationParser.TryParse(text, out _));

    [Theory]
    [InlineData("--connections", "0")]
    [InlineData("--depth", "0")]
    [InlineData("--size", "-1")]
    [InlineData("--duration", "5x")]
    [InlineData("--duration", "0s")]
    [InlineData("--rate", "0")]
    [InlineData("--port", "70000")]
    [InlineData("--bogus", "1")]
    public async Task Bad_options_exit_1_with_a_message_and_connect_nowhere(string option, string value)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);

        int exit = await BenchCli.InvokeAsync([option, value], output, error);

        Assert.Equal(BenchCli.ExitUsage, exit);
        Assert.NotEqual("", error.ToString().Trim());
    }

    [Fact]
    public async Task Json_output_is_one_valid_json_object_with_the_results()
    {
        await using var server = TestFrameServer.Start();
        string text = "";
        int exit = -1;
        JsonDocument? json = null;

        // Retried only when the shared machine left the short window without load (see BenchLoad.RunAsync).
        for (int attempt = 0; attempt < 3 && json?.RootElement.GetProperty("requests").GetInt64() is null or 0; attempt++)
        {
            json?.Dispose();
            using var output = new StringWriter(CultureInfo.InvariantCulture);
            using var error = new StringWriter(CultureInfo.InvariantCulture);
            exit = await BenchCli.InvokeAsync(
                [.. Target(server), "--connections", "2", "--depth", "4", "--duration", "300ms", "--warmup", "100ms", "--verify", "--json"],
                output,
                error);
            text = output.ToString().Trim();
            json = JsonDocument.Parse(text);
        }

        using JsonDocument document = json!;
        Assert.Equal(0, exit);
        Assert.DoesNotContain('\n', text);
        JsonElement root = document.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.True(root.GetProperty("requests").GetInt64() > 0);
        Assert.True(root.GetProperty("requests_per_s").GetDouble() > 0);
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.Equal(JsonValueKind.Object, root.GetProperty("errors_by_code").ValueKind);
        Assert.Equal(0, root.GetProperty("mismatches").GetInt64());
        Assert.Equal(0, root.GetProperty("failed_connects").GetInt64());
        Assert.True(root.GetProperty("latency_us").GetProperty("p99").GetDouble() > 0);
        Assert.True(root.GetProperty("latency_us").TryGetProperty("p999", out _));
        Assert.True(root.GetProperty("client_cpu_s").GetDouble() >= 0);
        Assert.True(root.GetProperty("tx_mb_per_s").GetDouble() > 0);
        Assert.True(root.GetProperty("rx_mb_per_s").GetDouble() > 0);
        Assert.Equal(0, root.GetProperty("exit_code").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("rate").ValueKind);
    }

    [Fact]
    public async Task The_table_reports_throughput_latency_errors_and_client_cpu_and_the_exit_code_follows_the_errors()
    {
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?> { ["Frames:OverloadMode"] = "Shed", ["Frames:Workers"] = "1", ["Frames:QueueCapacity"] = "1" },
            DelegateFrameHandler.Use(async (frame, cancellationToken) =>
            {
                await Task.Delay(2, cancellationToken);
                frame.Response.Write(frame.Request.Span);
            }));
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);

        int exit = await BenchCli.InvokeAsync(
            [.. Target(server), "--connections", "4", "--depth", "8", "--duration", "300ms", "--warmup", "100ms"],
            output,
            error);

        Assert.Equal(2, exit);
        string table = output.ToString();
        foreach (string row in new[] { "requests", "req/s", "MB/s tx / rx", "latency p50 µs", "latency p99.9 µs", "latency max µs", "errors", "  Busy", "mismatches", "failed connects", "client CPU s" })
        {
            Assert.Contains(row, table, StringComparison.Ordinal);
        }

        Assert.Contains("exit 2", error.ToString(), StringComparison.Ordinal);
    }

    private static string[] Target(TestFrameServer server) =>
        ["--host", server.FramesEndPoint.Address.ToString(), "--port", server.FramesEndPoint.Port.ToString(CultureInfo.InvariantCulture)];
}
