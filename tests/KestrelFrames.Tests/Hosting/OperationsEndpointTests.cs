using System.Net;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Hosting;

public sealed class OperationsEndpointTests
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/health")]
    public async Task Health_endpoints_answer_200_with_a_json_report_while_serving(string path)
    {
        await using var server = TestFrameServer.Start();

        using HttpResponseMessage response = await server.Http.GetAsync(path);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("{\"status\":\"Healthy\"", body, StringComparison.Ordinal);
        Assert.Contains("worker_pool", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_active_connections_gauge_returns_to_zero_when_the_client_leaves()
    {
        await using var server = TestFrameServer.Start();
        using var client = await server.ConnectAsync();
        await client.SendFrameAsync("x"u8);
        await client.ReadRequiredFrameAsync();

        // The server closes its side only after the connection's bookkeeping is done, so its EOF is the event to await.
        client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        Assert.True(await client.IsClosedByServerAsync());

        Assert.Equal(0, MetricsScrape.Sample(await server.Http.GetStringAsync("/metrics"), "frames_active_connections"));
    }
}
