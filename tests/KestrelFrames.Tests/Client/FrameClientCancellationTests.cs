using KestrelFrames.Client;
using KestrelFrames.Tests.Infrastructure;
using static KestrelFrames.Tests.Client.ClientTestKit;

namespace KestrelFrames.Tests.Client;

public sealed class FrameClientCancellationTests
{
    [Fact]
    public async Task Cancelling_a_request_that_waits_for_its_answer_returns_at_once_and_later_answers_still_match()
    {
        var handler = new RecordingHandler(gated: tag => tag == "first");
        await using var server = TestFrameServer.Start(services: handler.Services);
        await using FrameClient client = await ConnectAsync(server);
        using var cancel = new CancellationTokenSource();

        Task<FrameResponse> first = client.SendAsync("first"u8.ToArray()).AsTask();
        Task<FrameResponse> second = client.SendAsync("second"u8.ToArray(), cancel.Token).AsTask();
        await handler.Entered("second"); // On the wire and run; its answer waits behind the first one's.

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        Assert.False(first.IsCompleted);

        Task<FrameResponse> third = client.SendAsync("third"u8.ToArray()).AsTask();
        handler.Open();

        // The answer to "second" still comes, in its place, and is dropped: it is not taken for "third".
        Assert.Equal("first", Text(await first));
        Assert.Equal("third", Text(await third));
        Assert.Equal("fourth", Text(await client.SendAsync("fourth"u8.ToArray())));
    }

    [Fact]
    public async Task A_request_whose_token_is_already_cancelled_is_never_sent()
    {
        var handler = new RecordingHandler();
        await using var server = TestFrameServer.Start(services: handler.Services);
        await using FrameClient client = await ConnectAsync(server);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.SendAsync("never"u8.ToArray(), new CancellationToken(canceled: true)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.PingAsync(new CancellationToken(canceled: true)));

        Assert.Equal("after", Text(await client.SendAsync("after"u8.ToArray())));
        Assert.Equal(0, handler.Runs("never"));
    }

    [Fact]
    public async Task Many_callers_cancelling_at_random_never_get_someone_elses_answer()
    {
        const int Requests = 500;
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use(async (frame, cancellationToken) =>
        {
            await Task.Yield();
            await DelegateFrameHandler.Echo(frame);
        }));
        await using FrameClient client = await ConnectAsync(server);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, Requests).Select(i => Task.Run(async () =>
        {
            using var cancel = new CancellationTokenSource();
            ValueTask<FrameResponse> sending = client.SendAsync(Tag(i), cancel.Token);
            if (i % 3 == 0)
            {
                await cancel.CancelAsync(); // Before, during or after the write: whichever this run hits.
            }

            try
            {
                FrameResponse response = await sending;
                return Text(response) == TagText(i) ? "ok" : $"request {i} got {Text(response)}";
            }
            catch (OperationCanceledException) when (i % 3 == 0)
            {
                return "cancelled";
            }
        })));

        // A cancelled request may still have won the race against its answer; nobody ever gets another's answer.
        Assert.DoesNotContain(outcomes, o => o is not ("ok" or "cancelled"));
        Assert.All(outcomes.Where((_, i) => i % 3 != 0), o => Assert.Equal("ok", o));
        Assert.Equal(TagText(Requests), Text(await client.SendAsync(Tag(Requests))));
    }
}
