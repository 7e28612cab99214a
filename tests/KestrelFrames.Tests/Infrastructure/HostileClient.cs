using System.Net;
using KestrelFrames.Processing;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>What every hostile-client test checks afterwards.</summary>
internal static class HostileClient
{
    public static readonly string[] ProtocolErrorReasons = ["frame_too_large", "protocol_error", "frame_timeout", "idle_timeout", "write_timeout"];

    public static string ProtocolErrorSeries(string reason) => $"frames_protocol_errors_total{{reason=\"{reason}\"}}";

    public static async Task<double> ProtocolErrorsAsync(TestFrameServer server, string reason) =>
        MetricsScrape.Sample(await server.Http.GetStringAsync("/metrics"), ProtocolErrorSeries(reason));

    /// <summary>
    /// A heartbeat answered on <paramref name="connection"/>. On a second connection it paces a test by the server's
    /// own progress instead of the wall clock: the server has most likely run since the bytes sent before it.
    /// </summary>
    public static async Task RoundTripAsync(FrameTestClient connection)
    {
        await connection.SendFrameAsync([]);
        Frame answer = await connection.ReadRequiredFrameAsync();
        Assert.False(answer.IsStatus, answer.ToString());
    }

    /// <summary>A well-behaved client on another connection still gets its echo, and the server still reports ready.</summary>
    public static async Task AssertServerStillServesAsync(TestFrameServer server)
    {
        using (var client = await server.ConnectAsync())
        {
            byte[] payload = "well-behaved"u8.ToArray();
            await client.SendFrameAsync(payload);
            Frame answer = await client.ReadRequiredFrameAsync();
            Assert.False(answer.IsStatus, answer.ToString());
            Assert.Equal(payload, answer.Payload);
        }

        using HttpResponseMessage ready = await server.Http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    /// <summary>After the connection closed: no connection counted open, and no request bytes still held.</summary>
    public static async Task AssertConnectionReleasedAsync(TestFrameServer server)
    {
        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(0, MetricsScrape.Sample(metrics, "frames_active_connections"));
        Assert.Equal(0, server.Services.GetRequiredService<BufferBudget>().Used);
    }
}
