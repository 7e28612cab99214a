using System.Buffers;
using System.Text;
using KestrelFrames.Client;
using KestrelFrames.Tests.Infrastructure;
using static KestrelFrames.Tests.Client.ClientTestKit;

namespace KestrelFrames.Tests.Client;

/// <summary>SendAsync with a writer for the answer: the payload lands in the caller's buffer, not in a new array.</summary>
public sealed class FrameClientAnswerWriterTests
{
    [Fact]
    public async Task The_answer_is_appended_to_the_callers_writer_and_the_status_returned()
    {
        await using var server = TestFrameServer.Start();
        await using FrameClient client = await ConnectAsync(server);
        var answer = new ArrayBufferWriter<byte>();

        Assert.Equal(FrameResponseStatus.Ok, await client.SendAsync("first "u8.ToArray(), answer));
        Assert.Equal(FrameResponseStatus.Ok, await client.SendAsync("second"u8.ToArray(), answer));

        Assert.Equal("first second", Encoding.ASCII.GetString(answer.WrittenSpan));
    }

    [Fact]
    public async Task Concurrent_callers_each_get_their_own_answer_in_their_own_writer()
    {
        await using var server = TestFrameServer.Start();
        await using FrameClient client = await ConnectAsync(server);

        // Large answers too, so that some span the read loop's segments.
        string[] mismatches = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            byte[] payload = [.. Tag(i), .. new byte[i % 10 == 0 ? 100_000 + i : i]];
            var answer = new ArrayBufferWriter<byte>();
            FrameResponseStatus status = await client.SendAsync(payload, answer);
            return status == FrameResponseStatus.Ok && answer.WrittenSpan.SequenceEqual(payload) ? "" : $"request {i}: {status}, {answer.WrittenCount} bytes";
        })));

        Assert.All(mismatches, Assert.Empty);
    }

    [Fact]
    public async Task A_handler_error_writes_nothing_and_is_the_status()
    {
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use((_, _) => throw new InvalidOperationException("boom")));
        await using FrameClient client = await ConnectAsync(server);
        var answer = new ArrayBufferWriter<byte>();

        Assert.Equal(FrameResponseStatus.HandlerError, await client.SendAsync("x"u8.ToArray(), answer));
        Assert.Equal(0, answer.WrittenCount);
    }

    [Fact]
    public async Task A_cancelled_callers_writer_is_never_written_and_the_next_answer_goes_to_the_next_caller()
    {
        var handler = new RecordingHandler(gated: tag => tag == "slow");
        await using var server = TestFrameServer.Start(services: handler.Services);
        await using FrameClient client = await ConnectAsync(server);
        using var cancel = new CancellationTokenSource();
        var abandoned = new ArrayBufferWriter<byte>();

        Task<FrameResponseStatus> slow = client.SendAsync("slow"u8.ToArray(), abandoned, cancel.Token).AsTask();
        await handler.Entered("slow");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
        var next = new ArrayBufferWriter<byte>();
        Task<FrameResponseStatus> after = client.SendAsync("after"u8.ToArray(), next).AsTask();
        handler.Open();

        Assert.Equal(FrameResponseStatus.Ok, await after);
        Assert.Equal("after", Encoding.ASCII.GetString(next.WrittenSpan));
        Assert.Equal(0, abandoned.WrittenCount); // Its answer came, before "after"'s, and was dropped.
    }

    [Fact]
    public async Task A_writer_that_throws_fails_its_own_call_and_the_connection_serves_on()
    {
        await using var server = TestFrameServer.Start();
        await using FrameClient client = await ConnectAsync(server);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await client.SendAsync("x"u8.ToArray(), new FullWriter()));

        var answer = new ArrayBufferWriter<byte>();
        Assert.Equal(FrameResponseStatus.Ok, await client.SendAsync("still here"u8.ToArray(), answer));
        Assert.Equal("still here", Encoding.ASCII.GetString(answer.WrittenSpan));
    }

    private sealed class FullWriter : IBufferWriter<byte>
    {
        public void Advance(int count) => throw new InvalidOperationException("full");

        public Memory<byte> GetMemory(int sizeHint = 0) => throw new InvalidOperationException("full");

        public Span<byte> GetSpan(int sizeHint = 0) => throw new InvalidOperationException("full");
    }
}
