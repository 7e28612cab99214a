using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// <c>SocketTransport:MaxReadBufferSize</c> bounds the input a connection holds unexamined, not a frame: a frame up
/// to <c>Frames:MaxFrameSize</c> (1 MiB by default, its 4-byte header on top of the read limit's 1 MiB) stays in the
/// input unconsumed until it is whole, counted in the buffer budget, and must still arrive, on either transport. The
/// epoll transport once paused its receive on unconsumed bytes: a frame that crossed the limit waited for a receive
/// that never came, and was answered FrameTimeout (CI, once, a 1 MiB echo).
/// </summary>
public sealed class ReadBufferLimitTests
{
    private const int ReadLimit = 64 * 1024;

    [Theory]
    [InlineData(ReadLimit - 4)] // Header and payload fill the limit exactly.
    [InlineData(ReadLimit)]
    [InlineData(16 * ReadLimit)]
    public async Task A_frame_larger_than_the_read_buffer_limit_is_echoed_whole(int size)
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?>
        {
            ["SocketTransport:MaxReadBufferSize"] = ReadLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var client = await server.ConnectAsync();
        byte[] payload = TestPayloads.Random(size, seed: size);

        await client.SendFrameAsync(payload);
        Frame answer = await client.ReadRequiredFrameAsync();

        Assert.False(answer.IsStatus, $"Answered with a status frame instead of the echo of {size} bytes.");
        Assert.Equal(payload, answer.Payload);
    }
}
