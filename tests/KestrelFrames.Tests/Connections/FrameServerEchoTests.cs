using System.Net.Sockets;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Connections;

public sealed class FrameServerEchoTests : IAsyncLifetime
{
    private TestFrameServer _server = null!;

    public Task InitializeAsync()
    {
        _server = TestFrameServer.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(1)]
    [InlineData(64 * 1024)]
    [InlineData(1024 * 1024)]
    public async Task A_request_is_echoed_byte_for_byte(int size)
    {
        byte[] payload = TestPayloads.Random(size, seed: size);
        using var client = await _server.ConnectAsync();

        await client.SendFrameAsync(payload);
        Frame answer = await client.ReadRequiredFrameAsync();

        Assert.False(answer.IsStatus);
        Assert.Equal(payload, answer.Payload);
    }

    [Fact]
    public async Task A_heartbeat_is_answered_with_an_empty_frame_in_order()
    {
        using var client = await _server.ConnectAsync();

        await client.SendRawAsync([.. FrameTestClient.Encode("a"u8), .. FrameTestClient.Encode([]), .. FrameTestClient.Encode("b"u8)]);

        Assert.Equal("a"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
        Frame heartbeat = await client.ReadRequiredFrameAsync();
        Assert.False(heartbeat.IsStatus);
        Assert.Empty(heartbeat.Payload);
        Assert.Equal("b"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
    }

    [Fact]
    public async Task A_thousand_pipelined_requests_are_answered_in_order()
    {
        using var client = await _server.ConnectAsync();
        byte[] batch = [.. Enumerable.Range(0, 1000).SelectMany(i => FrameTestClient.Encode(BitConverter.GetBytes(i)))];

        await client.SendRawAsync(batch);

        for (int i = 0; i < 1000; i++)
        {
            Frame answer = await client.ReadRequiredFrameAsync();
            Assert.Equal(i, BitConverter.ToInt32(answer.Payload));
        }
    }

    [Fact]
    public async Task Two_hundred_concurrent_connections_each_get_a_hundred_correct_echoes()
    {
        await Task.WhenAll(Enumerable.Range(0, 200).Select(async c =>
        {
            using var client = await _server.ConnectAsync();
            for (int i = 0; i < 100; i++)
            {
                byte[] payload = BitConverter.GetBytes((c * 1000) + i);
                await client.SendFrameAsync(payload);
                Assert.Equal(payload, (await client.ReadRequiredFrameAsync()).Payload);
            }
        }));
    }

    [Fact]
    public async Task A_client_that_half_closes_after_sending_still_gets_every_answer()
    {
        using var client = await _server.ConnectAsync();
        byte[] batch = [.. Enumerable.Range(0, 100).SelectMany(i => FrameTestClient.Encode(BitConverter.GetBytes(i)))];

        await client.SendRawAsync(batch);
        client.Socket.Shutdown(SocketShutdown.Send);

        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(i, BitConverter.ToInt32((await client.ReadRequiredFrameAsync()).Payload));
        }

        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task An_http_request_on_the_frame_port_is_answered_frame_too_large_and_closed()
    {
        using var client = await _server.ConnectAsync();

        await client.SendRawAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());

        Frame answer = await client.ReadRequiredFrameAsync();
        Assert.Equal(FrameStatus.FrameTooLarge, answer.Status);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task A_header_with_the_high_bit_set_is_answered_protocol_error_after_earlier_answers_and_closed()
    {
        using var client = await _server.ConnectAsync();

        await client.SendRawAsync([.. FrameTestClient.Encode("first"u8), 0x80, 0, 0, 1, 0xFF]);

        Assert.Equal("first"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
        Assert.Equal(FrameStatus.ProtocolError, (await client.ReadRequiredFrameAsync()).Status);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task A_frame_one_byte_over_the_maximum_is_answered_frame_too_large_and_closed()
    {
        using var client = await _server.ConnectAsync();

        await client.SendRawAsync([0x00, 0x10, 0x00, 0x01]);

        Assert.Equal(FrameStatus.FrameTooLarge, (await client.ReadRequiredFrameAsync()).Status);
        Assert.True(await client.IsClosedByServerAsync());
    }
}
