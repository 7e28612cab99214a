using KestrelFrames.Protocol;
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
}
