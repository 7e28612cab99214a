using System.Buffers;
using KestrelFrames.Processing;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Processing;

public sealed class RequestBatchTests
{
    private readonly TestSlotOwner _owner = new();

    [Fact]
    public void Appended_requests_keep_request_order_and_taking_them_empties_the_batch()
    {
        FrameWorkItem[] slots = Slots(3);
        var batch = default(RequestBatch);

        foreach (FrameWorkItem slot in slots)
        {
            batch.Append(slot);
        }

        Assert.Equal(3, batch.Count);
        FrameWorkItem? head = batch.Take();
        Assert.Same(slots[0], head);
        Assert.Same(slots[1], head!.NextInBatch);
        Assert.Same(slots[2], head.NextInBatch!.NextInBatch);
        Assert.Null(batch.Head);
        Assert.Equal(0, batch.Count);
    }

    [Fact]
    public void Completing_a_batch_answers_every_request_with_the_status_and_unlinks_them()
    {
        FrameWorkItem[] slots = Slots(3);
        var batch = default(RequestBatch);
        foreach (FrameWorkItem slot in slots)
        {
            batch.Append(slot);
        }

        batch.CompleteAll(FrameStatus.Busy);

        Assert.All(slots, slot =>
        {
            Assert.True(slot.IsCompleted);
            Assert.Equal(FrameStatus.Busy, slot.Status);
            Assert.Null(slot.NextInBatch);
        });
        Assert.Null(batch.Head);
    }

    [Fact]
    public async Task Finished_requests_pushed_by_a_worker_are_signalled_latest_first()
    {
        FrameWorkItem[] slots = Slots(3);
        var finished = default(RequestBatch);
        var order = new List<int>();
        var signalled = new Task[slots.Length];
        for (int i = 0; i < slots.Length; i++)
        {
            int index = i;
            // Continuations run inline (the slot's write-loop optimisation), so they record the signal order.
            signalled[i] = slots[i].WaitAsync().AsTask().ContinueWith(_ => order.Add(index), TaskContinuationOptions.ExecuteSynchronously);
            slots[i].Finish(status: null);
            finished.Push(slots[i]);
        }

        Assert.All(slots, slot => Assert.False(slot.IsCompleted));
        finished.SignalAll();

        await Task.WhenAll(signalled);
        Assert.Equal([2, 1, 0], order);
        Assert.All(slots, slot => Assert.Null(slot.Status));
    }

    private FrameWorkItem[] Slots(int count)
    {
        var slots = new FrameWorkItem[count];
        for (int i = 0; i < count; i++)
        {
            slots[i] = new FrameWorkItem(_owner);
            slots[i].SetRequest(new ReadOnlySequence<byte>([(byte)i]), receivedTimestamp: 0);
        }

        return slots;
    }
}
