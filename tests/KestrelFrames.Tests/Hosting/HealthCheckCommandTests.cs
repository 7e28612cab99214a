using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Hosting;

public sealed class HealthCheckCommandTests
{
    [Fact]
    public async Task Healthcheck_exits_zero_against_a_live_server()
    {
        await using var server = TestFrameServer.Start();

        await using var check = ServerProcess.Run(["healthcheck", new Uri(server.Http.BaseAddress!, "/health/live").ToString()]);

        Assert.Equal(0, await check.WaitForExitAsync());
        Assert.Contains(": 200", check.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthcheck_given_a_base_url_asks_its_health_live()
    {
        await using var server = TestFrameServer.Start();
        int port = server.Http.BaseAddress!.Port;

        await using var check = ServerProcess.Run(["healthcheck", $"http://127.0.0.1:{port}"]);

        Assert.Equal(0, await check.WaitForExitAsync());
        Assert.Contains($"http://127.0.0.1:{port}/health/live: 200", check.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://[::1")]
    [InlineData("localhost:8080")]
    [InlineData("/health/live")]
    public async Task Healthcheck_given_a_malformed_url_exits_one_with_one_line_saying_so(string url)
    {
        await using var check = ServerProcess.Run(["healthcheck", url]);

        Assert.Equal(1, await check.WaitForExitAsync());
        Assert.Equal($"healthcheck: '{url}' is not an http:// or https:// URL.", check.Output.Trim());
    }

    [Fact]
    public async Task Healthcheck_exits_one_when_nothing_answers()
    {
        int port = FreePort();

        await using var check = ServerProcess.Run(["healthcheck", $"http://127.0.0.1:{port}/health/live"]);

        Assert.Equal(1, await check.WaitForExitAsync());
    }

    [Fact]
    public async Task Healthcheck_reads_the_http_endpoint_from_configuration_even_with_a_wildcard_host()
    {
        await using var server = TestFrameServer.Start();
        int port = server.Http.BaseAddress!.Port;

        await using var check = ServerProcess.Run(["healthcheck"], new Dictionary<string, string> { ["Kestrel__Endpoints__Http__Url"] = $"http://*:{port}" });

        Assert.Equal(0, await check.WaitForExitAsync());
        Assert.Contains($"http://127.0.0.1:{port}/health/live: 200", check.Output, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
