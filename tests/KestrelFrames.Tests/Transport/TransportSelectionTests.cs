using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Transport;

public sealed class TransportSelectionTests
{
    [Fact]
    public async Task The_frames_endpoint_runs_on_the_transport_the_configuration_names_and_metrics_say_which()
    {
        await using var server = TestFrameServer.Start();

        string metrics = await server.Http.GetStringAsync("/metrics");

        Assert.Equal(1, MetricsScrape.Sample(metrics, $"frames_transport_info{{transport=\"{TestTransport.Name}\"}}"));
        Assert.DoesNotContain(TestTransport.IsEpoll ? "transport=\"sockets\"" : "transport=\"epoll\"", metrics, StringComparison.Ordinal);
    }
}
