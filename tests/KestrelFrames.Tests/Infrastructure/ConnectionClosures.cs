using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// Awaits the server finishing with frame connections, by Kestrel's own <c>kestrel.connection.duration</c>
/// measurement: Kestrel records it after the connection's middleware and handler have returned, so every
/// finally block of ours has run. This is the event to await when the client cannot see the close (it reset,
/// or it left first).
/// </summary>
public sealed class ConnectionClosures : IDisposable
{
    private readonly MetricCollector<double> _collector;
    private readonly int _framesPort;

    public ConnectionClosures(TestFrameServer server)
    {
        _framesPort = server.FramesEndPoint.Port;
        _collector = new MetricCollector<double>(
            server.Services.GetRequiredService<IMeterFactory>(), "Microsoft.AspNetCore.Server.Kestrel", "kestrel.connection.duration");
    }

    public int Count => _collector.GetMeasurementSnapshot().Count(IsFrames);

    /// <summary>Completes once at least <paramref name="count"/> frame connections have closed since this was created.</summary>
    public async Task WaitAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int seen = 0;
        while (Count < count)
        {
            // Any connection's measurement wakes us; count only the Frames port's.
            seen++;
            await _collector.WaitForMeasurementsAsync(seen, timeout.Token);
        }
    }

    public void Dispose() => _collector.Dispose();

    private bool IsFrames(CollectedMeasurement<double> measurement) =>
        measurement.Tags.TryGetValue("server.port", out object? port) && Convert.ToInt32(port, System.Globalization.CultureInfo.InvariantCulture) == _framesPort;
}
