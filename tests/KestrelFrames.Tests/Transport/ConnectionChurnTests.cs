using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// Connections opened and closed in bursts give back every descriptor: the accepted socket, and on the epoll
/// transport its registration, closed on the loop's thread after the connection is done. A transport that leaked one
/// per connection would be out of descriptors after a day of short-lived clients. Counted in /proc/self/fd, so
/// Linux only, and alone (no other test class opens sockets meanwhile).
/// </summary>
[Collection(ProcessWideMeasurements.Name)]
public sealed class ConnectionChurnTests
{
    private const int Bursts = 4;
    private const int BurstSize = 500;

    // The runtime may open a descriptor or two of its own meanwhile; a leak here is one per connection, 2,000.
    private const int Slack = 16;

    [Fact]
    public async Task Two_thousand_connections_opened_and_closed_in_bursts_of_500_give_back_every_descriptor()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // /proc/self/fd is Linux's; xunit 2 has no runtime skip.
        }

        await using var server = TestFrameServer.Start();
        using var closures = new ConnectionClosures(server);

        // The baseline after one connection and one scrape: the loops, the listener and the HTTP connection are open.
        using (var warmUp = await server.ConnectAsync())
        {
            await HostileClient.RoundTripAsync(warmUp);
        }

        await closures.WaitAsync(1);
        await HostileClient.AssertConnectionReleasedAsync(server);
        int baseline = OpenDescriptors();

        for (int burst = 1; burst <= Bursts; burst++)
        {
            FrameTestClient[] clients = await Task.WhenAll(Enumerable.Range(0, BurstSize).Select(_ => server.ConnectAsync()));
            await Task.WhenAll(clients.Select(HostileClient.RoundTripAsync)); // Each one accepted and served.
            Assert.True(OpenDescriptors() >= baseline + BurstSize, "The burst's connections are not open at once.");
            FrameTestClients.DisposeAll(clients);
            await closures.WaitAsync(1 + (burst * BurstSize));
        }

        await Polling.UntilAsync(() => OpenDescriptors() <= baseline + Slack,
            () => $"{OpenDescriptors()} descriptors open after {Bursts * BurstSize} connections closed, {baseline} before.");
        await HostileClient.AssertConnectionReleasedAsync(server);
        await HostileClient.AssertServerStillServesAsync(server);
    }

    private static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;
}
