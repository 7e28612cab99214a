using System.Text;
using KestrelFrames.Client;
using KestrelFrames.Tests.Infrastructure;
using static KestrelFrames.Tests.Client.ClientTestKit;

namespace KestrelFrames.Tests.Client;

public sealed class FrameClientEchoTests
{
    [Fact]
    public async Task A_request_gets_the_servers_answer_as_a_copy_the_caller_owns()
    {
        await using var server = TestFrameServer.Start();
        await using FrameClient client = await ConnectAsync(server);

        byte[] payload = "hello, frames"u8.ToArray();
        FrameResponse first = await client.SendAsync(payload);
        payload.AsSpan().Fill((byte)'x');
        FrameResponse second = await client.SendAsync("second"u8.ToArray());

        Assert.True(first.IsOk);
        Assert.Equal(FrameResponseStatus.Ok, first.Status);
        Assert.Equal("hello, frames", Text(first)); // Neither the caller's buffer nor a later answer changed it.
        Assert.Equal("hello, frames"u8.ToArray(), first.EnsureOk().ToArray());
        Assert.Equal("second", Text(second));
    }

    [Fact]
    public async Task A_thousand_concurrent_requests_on_one_client_each_get_their_own_payload_back()
    {
        const int Requests = 1_000;
        await using var server = TestFrameServer.Start();
        await using FrameClient client = await ConnectAsync(server);

        // Sizes vary, and every tenth request is large, so batches span flushes and answers span read segments.
        static byte[] Payload(int i) => [.. Tag(i), .. new byte[i % 10 == 0 ? 100_000 + i : i % 97]];

        string[] mismatches = await Task.WhenAll(Enumerable.Range(0, Requests).Select(i => Task.Run(async () =>
        {
            byte[] payload = Payload(i);
            FrameResponse response = await client.SendAsync(payload);
            return response.IsOk && response.Payload.Span.SequenceEqual(payload) ? "" : $"request {i} got {response}";
        })));

        Assert.All(mismatches, Assert.Empty);
    }

    [Fact]
    public async Task Pipelined_answers_match_their_requests_when_later_handlers_finish_first()
    {
        const int Requests = 10;
        RecordingHandler handler = null!;
        handler = new RecordingHandler(gated: tag => tag == TagText(0));
        await using var server = TestFrameServer.Start(services: handler.Services);
        await using FrameClient client = await ConnectAsync(server);

        // Sent in this order by one caller, without waiting: the wire order is the call order.
        var answers = Enumerable.Range(0, Requests).Select(i => client.SendAsync(Tag(i)).AsTask()).ToArray();

        // Every other request has run before the first one finishes; the server still answers in request order.
        await handler.EnteredCount(Requests);
        Assert.All(answers, a => Assert.False(a.IsCompleted));
        handler.Open();

        for (int i = 0; i < Requests; i++)
        {
            Assert.Equal(TagText(i), Text(await answers[i]));
        }
    }

    [Fact]
    public async Task A_ping_is_a_heartbeat_round_trip_answered_in_order_behind_earlier_requests()
    {
        var handler = new RecordingHandler(gated: _ => true);
        await using var server = TestFrameServer.Start(services: handler.Services);
        await using FrameClient client = await ConnectAsync(server);

        Task<FrameResponse> slow = client.SendAsync("slow"u8.ToArray()).AsTask();
        await handler.Entered("slow");
        Task ping = client.PingAsync().AsTask();
        Assert.False(ping.IsCompleted); // The server answers it only after the held request.

        handler.Open();
        await ping;
        Assert.Equal("slow", Text(await slow));
        Assert.Equal(1, handler.TotalRuns); // The heartbeat never reached the handler.
    }

    [Fact]
    public async Task An_empty_request_is_refused_because_an_empty_frame_is_a_heartbeat()
    {
        await using var server = TestFrameServer.Start();
        await using FrameClient client = await ConnectAsync(server);

        await Assert.ThrowsAsync<ArgumentException>(async () => await client.SendAsync(ReadOnlyMemory<byte>.Empty));
        Assert.Equal("still fine", Encoding.UTF8.GetString((await client.SendAsync("still fine"u8.ToArray())).Payload.Span));
    }
}
