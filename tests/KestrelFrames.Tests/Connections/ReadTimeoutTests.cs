using System.Buffers.Binary;
using System.Net.Sockets;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Connections;

[Collection(ProcessWideMeasurements.Name)]
public sealed class ReadTimeoutTests
{
    private static readonly Dictionary<string, string?> s_settings = new() { ["Frames:ReadTimeout"] = "00:00:02" };

    [Fact]
    public async Task A_slowloris_trickling_a_frame_byte_by_byte_gets_frame_timeout_and_is_closed()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(s_settings, time: time);
        using var pacer = await server.ConnectAsync();
        using var client = await server.ConnectAsync();
        await HostileClient.RoundTripAsync(client); // The server has this connection in its read loop before the clock moves.
        await client.SendRawAsync([.. Header(1000), 0]);

        // Each byte arrives in time on its own, but the frame as a whole does not: 200 bytes of 1000 at most.
        Task<Frame> answer = client.ReadRequiredFrameAsync();
        for (int i = 0; i < 200 && !answer.IsCompleted; i++)
        {
            try
            {
                await client.SendRawAsync([0]);
            }
            catch (SocketException)
            {
                break; // The server has closed the connection.
            }

            await HostileClient.RoundTripAsync(pacer); // Paced by the server, not the wall clock: the byte is most likely read.
            time.Advance(TimeSpan.FromMilliseconds(200));
        }

        Assert.Equal(FrameStatus.FrameTimeout, (await answer).Status);
        Assert.True(await IsClosedByServerAsync(client));
        Assert.Equal(1, await HostileClient.ProtocolErrorsAsync(server, "frame_timeout"));
        await HostileClient.AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task A_frame_completed_within_the_read_timeout_is_echoed()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(s_settings, time: time);
        using var pacer = await server.ConnectAsync();
        using var client = await server.ConnectAsync();
        await HostileClient.RoundTripAsync(client);
        byte[] payload = "in good time"u8.ToArray();

        await client.SendRawAsync([.. Header((uint)payload.Length), .. payload[..4]]);
        await HostileClient.RoundTripAsync(pacer);
        time.Advance(TimeSpan.FromSeconds(1));
        await client.SendRawAsync(payload[4..]);

        Frame answer = await client.ReadRequiredFrameAsync();
        Assert.False(answer.IsStatus, answer.ToString());
        Assert.Equal(payload, answer.Payload);
        Assert.Equal(0, await HostileClient.ProtocolErrorsAsync(server, "frame_timeout"));
        await HostileClient.AssertServerStillServesAsync(server);
    }

    private static byte[] Header(uint length)
    {
        var header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32BigEndian(header, length);
        return header;
    }

    /// <summary>
    /// End of stream, or a reset: a byte the loop sent just as the server closed may still be unread when it closes,
    /// and closing with unread bytes sends RST instead of FIN.
    /// </summary>
    private static async Task<bool> IsClosedByServerAsync(FrameTestClient client)
    {
        try
        {
            return await client.IsClosedByServerAsync();
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }
}
