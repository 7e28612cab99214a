using System.Buffers;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Primitives;

public sealed class LargeBufferPoolTests
{
    private readonly LargeBufferPool _pool = new();

    [Fact]
    public void Buffers_up_to_16_KiB_come_from_the_shared_pool_and_are_not_kept_here()
    {
        byte[] small = _pool.Rent(LargeBufferPool.SharedMaxLength);
        _pool.Return(small);

        Assert.Equal(LargeBufferPool.SharedMaxLength, small.Length);
        Assert.Equal(0, _pool.PooledBytes);
    }

    [Fact]
    public void A_larger_buffer_is_the_next_power_of_two_and_comes_back_on_the_next_rent_of_that_size()
    {
        byte[] first = _pool.Rent(100_000);
        _pool.Return(first);
        byte[] second = _pool.Rent(70_000);

        Assert.Equal(128 * 1024, first.Length);
        Assert.Same(first, second);
    }

    [Fact]
    public void Idle_buffers_of_a_size_are_capped_and_the_rest_dropped()
    {
        int size = 1024 * 1024;
        int cap = LargeBufferPool.RetainedBytesPerSize / size;
        byte[][] burst = [.. Enumerable.Range(0, cap + 3).Select(_ => _pool.Rent(size))];

        Array.ForEach(burst, buffer => _pool.Return(buffer));

        Assert.Equal((long)cap * size, _pool.PooledBytes);
        Assert.Equal(3L * size, _pool.DroppedBytes);
    }

    [Fact]
    public void Idle_buffers_no_rent_needed_for_a_trim_window_decay_by_half_until_none_are_left()
    {
        byte[][] burst = [.. Enumerable.Range(0, 8).Select(_ => _pool.Rent(64 * 1024))];
        Array.ForEach(burst, buffer => _pool.Return(buffer));
        _pool.Trim(); // The window in which the burst returned them: they were just needed.

        var left = new List<long>();
        for (int i = 0; i < 4; i++)
        {
            _pool.Trim();
            left.Add(_pool.PooledBytes / (64 * 1024));
        }

        Assert.Equal([4L, 2L, 1L, 0L], left);
        Assert.Equal(8L * 64 * 1024, _pool.DroppedBytes);
    }

    [Fact]
    public void A_large_array_of_another_size_is_refused_rather_than_pooled_under_the_wrong_size()
    {
        Assert.Throws<ArgumentException>(() => _pool.Return(new byte[100_000]));
    }

    [Fact]
    public void A_request_over_16_KiB_and_its_answer_use_the_servers_pool_and_go_back_to_it_when_the_slot_is_reset()
    {
        using var parts = new ServerParts();
        var slot = new FrameWorkItem(parts.NewConnection());
        parts.SetRequest(slot, new byte[40_000]);
        slot.Response.GetSpan(100_000);

        slot.Reset();

        Assert.Equal((64 + 128) * 1024, parts.Services.Buffers.PooledBytes);
        Assert.Equal(0, parts.Ledger.Outstanding(LedgerEntry.RequestBuffer));
        Assert.Equal(0, parts.Ledger.Outstanding(LedgerEntry.ResponseBuffer));
    }
}
