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

    [Fact]
    public async Task The_start_up_log_names_the_transport_with_its_loop_count()
    {
        var logs = new LogWaiter();
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:TransportLoops"] = "3" }, services: logs.Register);

        string line = await logs.WaitForAsync("Frames transport:");

        // TransportLoops sets the epoll transport's loops; on Kestrel's sockets the count is its IOQueueCount.
        Assert.Contains(TestTransport.IsEpoll ? "Frames transport: epoll, 3 I/O loops," : "Frames transport: sockets,", line, StringComparison.Ordinal);
    }
}
