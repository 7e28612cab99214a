using KestrelFrames.Connections;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Connections;

/// <summary>
/// The answer ring between a connection's read loop (reserve, publish) and its write loop (peek, release), driven
/// by the test playing both loops on one thread: no socket, no worker pool.
/// </summary>
public sealed class ResponseQueueTests : IDisposable
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(10);

    private readonly ServerParts _parts = new();

    public void Dispose() => _parts.Dispose();

    [Fact]
    public void An_empty_ring_has_nothing_to_peek_and_a_slot_to_reserve()
    {
        var queue = NewQueue(capacity: 2);

        Assert.False(queue.TryPeek(out _));
        Assert.True(queue.TryReserve(out FrameWorkItem slot));
        Assert.NotNull(slot);
        Assert.Equal(0, queue.Count);
        Assert.False(queue.IsCompleted);
    }

    [Fact]
    public void A_reserved_slot_is_invisible_to_the_writer_until_it_is_published()
    {
        var queue = NewQueue(capacity: 2);

        queue.TryReserve(out FrameWorkItem reserved);
        queue.TryReserve(out FrameWorkItem again);

        Assert.Same(reserved, again);
        Assert.False(queue.TryPeek(out _));

        reserved.SetHeartbeat();
        queue.Publish();

        Assert.True(queue.TryPeek(out FrameWorkItem head));
        Assert.Same(reserved, head);
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void A_full_ring_refuses_a_reservation_until_the_writer_releases_a_slot()
    {
        var queue = NewQueue(capacity: 2);
        PublishStatus(queue, FrameStatus.Busy);
        PublishStatus(queue, FrameStatus.HandlerError);

        Assert.False(queue.TryReserve(out _));
        Assert.Equal(2, queue.Count);

        queue.Release();

        Assert.True(queue.TryReserve(out _));
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void Answers_leave_in_the_order_they_were_published_across_many_laps_of_the_ring()
    {
        var queue = NewQueue(capacity: 3);
        FrameStatus[] statuses = [FrameStatus.Busy, FrameStatus.HandlerError, FrameStatus.FrameTooLarge, FrameStatus.ProtocolError, FrameStatus.IdleTimeout];
        var published = new List<FrameStatus>();
        var written = new List<FrameStatus>();

        // The writer lags the reader by up to two answers, so the ring wraps with slots in flight.
        for (int i = 0; i < 50; i++)
        {
            FrameStatus status = statuses[i % statuses.Length];
            PublishStatus(queue, status);
            published.Add(status);
            if (queue.Count == 3 || i % 4 == 0)
            {
                written.Add(WriteHead(queue));
            }
        }

        while (queue.TryPeek(out _))
        {
            written.Add(WriteHead(queue));
        }

        Assert.Equal(published, written);
    }

    [Fact]
    public void Slots_are_created_once_and_reused_after_a_lap()
    {
        var queue = NewQueue(capacity: 2);
        var seen = new HashSet<FrameWorkItem>(ReferenceEqualityComparer.Instance);

        for (int i = 0; i < 10; i++)
        {
            queue.TryReserve(out FrameWorkItem slot);
            seen.Add(slot);
            slot.SetHeartbeat();
            queue.Publish();
            queue.TryPeek(out _);
            queue.Release();
        }

        Assert.Equal(2, seen.Count);
    }

    [Fact]
    public async Task Publishing_wakes_a_writer_waiting_on_an_empty_ring()
    {
        var queue = NewQueue(capacity: 2);
        ValueTask waiting = queue.WaitForPublishAsync();
        Assert.False(waiting.IsCompleted);

        PublishStatus(queue, FrameStatus.Busy);

        await waiting.AsTask().WaitAsync(s_hangGuard);
        Assert.True(queue.TryPeek(out FrameWorkItem head));
        Assert.Equal(FrameStatus.Busy, head.Status);
    }

    [Fact]
    public async Task Releasing_a_slot_wakes_a_reader_waiting_on_a_full_ring()
    {
        var queue = NewQueue(capacity: 1);
        PublishStatus(queue, FrameStatus.Busy);
        Assert.False(queue.TryReserve(out _));
        ValueTask waiting = queue.WaitForReleaseAsync();
        Assert.False(waiting.IsCompleted);

        queue.TryPeek(out _);
        queue.Release();

        await waiting.AsTask().WaitAsync(s_hangGuard);
        Assert.True(queue.TryReserve(out _));
    }

    [Fact]
    public async Task A_release_before_the_reader_waits_is_not_lost()
    {
        var queue = NewQueue(capacity: 1);
        PublishStatus(queue, FrameStatus.Busy);
        Assert.False(queue.TryReserve(out _));

        // The writer releases between the reader's failed reserve and its wait.
        queue.Release();
        ValueTask waiting = queue.WaitForReleaseAsync();

        Assert.True(waiting.IsCompleted);
        await waiting;
        Assert.True(queue.TryReserve(out _));
    }

    [Fact]
    public async Task Completing_wakes_a_writer_waiting_on_an_empty_ring_and_leaves_nothing_to_peek()
    {
        var queue = NewQueue(capacity: 2);
        ValueTask waiting = queue.WaitForPublishAsync();
        Assert.False(waiting.IsCompleted);

        queue.Complete();

        await waiting.AsTask().WaitAsync(s_hangGuard);
        Assert.True(queue.IsCompleted);
        Assert.False(queue.TryPeek(out _));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Answers_published_before_completion_are_still_there_for_the_writer()
    {
        var queue = NewQueue(capacity: 2);
        PublishStatus(queue, FrameStatus.Busy);
        PublishStatus(queue, FrameStatus.ShuttingDown);

        queue.Complete();

        Assert.True(queue.IsCompleted);
        Assert.Equal(FrameStatus.Busy, WriteHead(queue));
        Assert.Equal(FrameStatus.ShuttingDown, WriteHead(queue));
        Assert.False(queue.TryPeek(out _));
    }

    [Fact]
    public void Unanswered_requests_count_published_requests_only_and_drop_as_they_are_released()
    {
        var queue = NewQueue(capacity: 4);
        PublishRequest(queue, "one"u8);
        PublishHeartbeat(queue);
        PublishRequest(queue, "two"u8);
        queue.TryReserve(out FrameWorkItem reservedOnly);
        _parts.SetRequest(reservedOnly, "not yet published"u8);

        Assert.Equal(2, queue.CountUnansweredRequests());

        queue.Release();
        Assert.Equal(1, queue.CountUnansweredRequests());
        queue.Release();
        Assert.Equal(1, queue.CountUnansweredRequests());
        queue.Release();
        Assert.Equal(0, queue.CountUnansweredRequests());
    }

    [Fact]
    public void Releasing_a_request_slot_gives_back_its_answer_slot_its_buffer_and_its_budget_bytes()
    {
        var queue = NewQueue(capacity: 2);
        PublishRequest(queue, "twelve bytes"u8);

        Assert.Equal(1, _parts.Ledger.Outstanding(LedgerEntry.AnswerSlot));
        Assert.Equal(1, _parts.Ledger.Outstanding(LedgerEntry.RequestBuffer));
        Assert.Equal(12, _parts.Budget.Used);

        queue.TryPeek(out FrameWorkItem head);
        head.Complete(null);
        Assert.True(head.IsCompleted);
        queue.Release();

        Assert.Equal(0, _parts.Ledger.Outstanding(LedgerEntry.AnswerSlot));
        Assert.Equal(0, _parts.Ledger.Outstanding(LedgerEntry.RequestBuffer));
        Assert.Equal(0, _parts.Budget.Used);
        Assert.True(head.Request.IsEmpty);
        Assert.False(head.IsCompleted);
    }

    [Fact]
    public async Task A_reader_and_a_writer_on_two_threads_pass_every_answer_once_and_in_order()
    {
        const int Answers = 20_000;
        var queue = NewQueue(capacity: 4);
        var written = new List<int>(Answers);

        Task writer = Task.Run(async () =>
        {
            while (true)
            {
                if (!queue.TryPeek(out FrameWorkItem head))
                {
                    if (queue.IsCompleted && queue.Count == 0)
                    {
                        return;
                    }

                    await queue.WaitForPublishAsync();
                    continue;
                }

                written.Add(head.Request.Span[0] | (head.Request.Span[1] << 8));
                queue.Release();
            }
        });
        Task reader = Task.Run(async () =>
        {
            for (int i = 0; i < Answers; i++)
            {
                FrameWorkItem slot;
                while (!queue.TryReserve(out slot))
                {
                    await queue.WaitForReleaseAsync();
                }

                _parts.SetRequest(slot, [(byte)i, (byte)(i >> 8)]);
                slot.Complete(null);
                queue.Publish();
            }

            queue.Complete();
        });

        await Task.WhenAll(reader, writer).WaitAsync(s_hangGuard);

        Assert.Equal(Enumerable.Range(0, Answers), written);
        Assert.Equal(0, _parts.Budget.Used);
    }

    private ResponseQueue NewQueue(int capacity) => new(_parts.NewConnection(), capacity);

    private static void PublishStatus(ResponseQueue queue, FrameStatus status)
    {
        Assert.True(queue.TryReserve(out FrameWorkItem slot), "the ring is full");
        slot.SetStatus(status);
        queue.Publish();
    }

    private static void PublishHeartbeat(ResponseQueue queue)
    {
        Assert.True(queue.TryReserve(out FrameWorkItem slot), "the ring is full");
        slot.SetHeartbeat();
        queue.Publish();
    }

    private void PublishRequest(ResponseQueue queue, ReadOnlySpan<byte> payload)
    {
        Assert.True(queue.TryReserve(out FrameWorkItem slot), "the ring is full");
        _parts.SetRequest(slot, payload);
        queue.Publish();
    }

    /// <summary>The writer's part for one answer: the head's status, then the slot back to the reader.</summary>
    private static FrameStatus WriteHead(ResponseQueue queue)
    {
        Assert.True(queue.TryPeek(out FrameWorkItem head), "nothing to write");
        FrameStatus status = head.Status!.Value;
        queue.Release();
        return status;
    }
}
