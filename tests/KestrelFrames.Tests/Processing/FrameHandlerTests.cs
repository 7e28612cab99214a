using System.Buffers;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Processing;

public sealed class FrameHandlerTests
{
    [Fact]
    public async Task A_slow_request_followed_by_a_fast_one_is_still_answered_first()
    {
        var slowGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fastHandled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use(async (frame, _) =>
        {
            if (frame.Request.Span[0] == (byte)'s')
            {
                await slowGate.Task;
            }
            else
            {
                fastHandled.SetResult();
            }

            await DelegateFrameHandler.Echo(frame);
        }));
        using var client = await server.ConnectAsync();

        // One write, so both usually arrive in one read and reach the pool as one batch: the slow handler must hand
        // the rest of its batch back to the pool, or the fast one would wait behind it and this would never finish.
        await client.SendRawAsync([.. FrameTestClient.Encode("slow"u8), .. FrameTestClient.Encode("fast"u8)]);
        await fastHandled.Task; // The fast one has finished in the pool while the slow one still runs...
        slowGate.SetResult();

        // ...yet the answers leave in request order.
        Assert.Equal("slow"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
        Assert.Equal("fast"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
    }

    [Fact]
    public async Task A_handler_that_throws_answers_handler_error_and_the_next_request_still_works()
    {
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use(async (frame, _) =>
        {
            if (frame.Request.Span[0] == (byte)'!')
            {
                throw new InvalidOperationException("boom");
            }

            await DelegateFrameHandler.Echo(frame);
        }));
        using var client = await server.ConnectAsync();

        await client.SendFrameAsync("!"u8);
        Frame failed = await client.ReadRequiredFrameAsync();
        await client.SendFrameAsync("ok"u8);
        Frame next = await client.ReadRequiredFrameAsync();

        Assert.Equal(FrameStatus.HandlerError, failed.Status);
        Assert.Equal("ok"u8.ToArray(), next.Payload);
    }

    [Fact]
    public async Task A_handler_that_throws_synchronously_answers_handler_error()
    {
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use((_, _) => throw new InvalidOperationException("sync boom")));
        using var client = await server.ConnectAsync();

        await client.SendFrameAsync("x"u8);

        Assert.Equal(FrameStatus.HandlerError, (await client.ReadRequiredFrameAsync()).Status);
    }

    [Fact]
    public async Task Pipelined_requests_in_one_read_each_get_their_own_outcome_in_their_own_order()
    {
        // The first byte picks what the handler does: echo or throw, synchronously or after yielding.
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use(async (frame, _) =>
        {
            byte kind = frame.Request.Span[0];
            if (kind is (byte)'a' or (byte)'A')
            {
                await Task.Yield();
            }

            if (kind is (byte)'!' or (byte)'A')
            {
                throw new InvalidOperationException("boom");
            }

            frame.Response.Write(frame.Request.Span);
        }));
        using var client = await server.ConnectAsync();
        string[] requests = ["s1", "!1", "a1", "A1", "", "s2", "A2", "!2", "a2", "s3"];

        await client.SendRawAsync([.. requests.SelectMany(r => FrameTestClient.Encode(System.Text.Encoding.ASCII.GetBytes(r)))]);

        foreach (string request in requests)
        {
            Frame answer = await client.ReadRequiredFrameAsync();
            if (request.Length > 0 && request[0] is '!' or 'A')
            {
                Assert.Equal(FrameStatus.HandlerError, answer.Status);
            }
            else
            {
                Assert.Equal(request, System.Text.Encoding.ASCII.GetString(answer.Payload));
            }
        }
    }

    [Fact]
    public async Task A_handler_can_answer_with_the_request_itself()
    {
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use((frame, _) =>
        {
            frame.RespondWithRequest();
            return ValueTask.CompletedTask;
        }));
        using var client = await server.ConnectAsync();

        await client.SendFrameAsync("same bytes back"u8);

        Assert.Equal("same bytes back"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Writing_a_response_as_well_as_answering_with_the_request_is_a_handler_error(bool writeFirst)
    {
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use((frame, _) =>
        {
            if (frame.Request.Span[0] != (byte)'x')
            {
                frame.RespondWithRequest();
            }
            else if (writeFirst)
            {
                frame.Response.Write("extra"u8);
                frame.RespondWithRequest();
            }
            else
            {
                frame.RespondWithRequest();
                frame.Response.Write("extra"u8);
            }

            return ValueTask.CompletedTask;
        }));
        using var client = await server.ConnectAsync();

        await client.SendFrameAsync("x"u8);
        Assert.Equal(FrameStatus.HandlerError, (await client.ReadRequiredFrameAsync()).Status);

        // The slot is clean for the next request: nothing of the failed one leaks into it.
        await client.SendFrameAsync("y"u8);
        Assert.Equal("y"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
    }
}
