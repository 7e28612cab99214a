using System.Text.Json;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Hosting;

/// <summary>The server binary's console logs, as an operator collects them: each entry says when it happened.</summary>
public sealed class LogFormatTests
{
    private const string Loopback = "--Kestrel:Endpoints:Frames:Url=http://127.0.0.1:0";
    private const string HttpLoopback = "--Kestrel:Endpoints:Http:Url=http://127.0.0.1:0";

    [Fact]
    public async Task Plain_log_entries_start_with_a_utc_timestamp()
    {
        await using var server = ServerProcess.Run([Loopback, HttpLoopback]);
        await server.FramesEndPoint;

        string[] headers = [.. server.Output.Split('\n').Where(line => line.Contains("info: ", StringComparison.Ordinal))];

        Assert.NotEmpty(headers);
        Assert.All(headers, line => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: ", line));
    }

    [Fact]
    public async Task Json_log_entries_carry_a_utc_timestamp()
    {
        await using var server = ServerProcess.Run([Loopback, HttpLoopback], new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "json" });
        await server.FramesEndPoint;

        string[] entries = [.. server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

        Assert.NotEmpty(entries);
        Assert.All(entries, entry =>
        {
            using var json = JsonDocument.Parse(entry);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", json.RootElement.GetProperty("Timestamp").GetString());
        });
    }
}
