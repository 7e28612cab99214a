using System.Buffers;
using KestrelFrames.Primitives;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Primitives;

/// <summary>The leak accounting itself: it must see what a connection still holds, or its all-clear means nothing.</summary>
public sealed class ResourceLedgerTests
{
    [Fact]
    public void What_is_taken_and_not_returned_is_outstanding()
    {
        var ledger = new ResourceLedger();
        ledger.Took(LedgerEntry.AnswerSlot);
        ledger.Took(LedgerEntry.AnswerSlot);
        ledger.Returned(LedgerEntry.AnswerSlot);

        Assert.Equal(1, ledger.Outstanding(LedgerEntry.AnswerSlot));
        Assert.Equal(0, ledger.Outstanding(LedgerEntry.RequestBuffer));
    }

    [Fact]
    public async Task A_request_held_by_its_handler_shows_its_slot_its_buffers_and_its_budget_as_outstanding_until_answered()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = new InMemoryConnection(services: DelegateFrameHandler.Use(async (frame, _) =>
        {
            entered.TrySetResult();
            await gate.Task;
            frame.Response.Write("answer"u8);
        }));

        await connection.ToServer.WriteAsync(FrameTestClient.Encode("held"u8));
        await entered.Task;

        Assert.Equal(
            ["AnswerSlot: 1", "RequestBuffer: 1", "budget bytes: 4"],
            connection.Leaks.Outstanding());

        gate.SetResult();
        System.IO.Pipelines.ReadResult answer = await connection.FromServer.ReadAtLeastAsync(4 + 6);
        connection.FromServer.AdvanceTo(answer.Buffer.End);
        await connection.ToServer.CompleteAsync();
        await connection.Running;
        await connection.Leaks.AssertNoneAsync();
    }
}
