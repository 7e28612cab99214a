using System.Buffers;
using KestrelFrames.Primitives;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Primitives;

public sealed class PoolTrimmerTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly LargeBufferPool _buffers = new();
    private readonly PoolTrimmer _trimmer;
    private readonly BlockMemoryPoolFactory _factory;

    public PoolTrimmerTests()
    {
        _trimmer = new PoolTrimmer(_time, _buffers);
        _factory = new BlockMemoryPoolFactory(Options.Create(new FrameServerOptions()), NullLogger<BlockMemoryPoolFactory>.Instance, _trimmer);
    }

    public void Dispose() => _trimmer.Dispose();

    [Fact]
    public void The_transport_pools_and_the_large_buffers_are_trimmed_on_a_timer()
    {
        MemoryPool<byte> pool = _factory.Create();
        List<IMemoryOwner<byte>> blocks = [pool.Rent(), pool.Rent()];
        blocks.ForEach(block => block.Dispose());
        byte[][] buffers = [_buffers.Rent(256 * 1024), _buffers.Rent(256 * 1024)];
        Array.ForEach(buffers, buffer => _buffers.Return(buffer));
        long pooledBlocks = _factory.PooledBytes;

        _time.Advance(PoolTrimmer.TrimPeriod); // The burst's window: kept.
        long blocksAfterFirst = _factory.PooledBytes, buffersAfterFirst = _buffers.PooledBytes;
        _time.Advance(PoolTrimmer.TrimPeriod); // A window with no rent: half dropped.
        _time.Advance(PoolTrimmer.TrimPeriod);

        Assert.True(pooledBlocks > 0);
        Assert.Equal(pooledBlocks, blocksAfterFirst);
        Assert.Equal(2 * 256 * 1024, buffersAfterFirst);
        Assert.Equal(0, _factory.PooledBytes);
        Assert.Equal(0, _buffers.PooledBytes);
    }

    [Fact]
    public void Trims_ask_for_a_full_collection_once_the_memory_they_dropped_reaches_the_threshold_and_not_before()
    {
        int collections = 0;
        _trimmer.RequestCollection = () => collections++;
        MemoryPool<byte> pool = _factory.Create();
        int blockSize = pool.MaxBufferSize;
        int burst = (int)(PoolTrimmer.CollectAfterDroppedBytes / blockSize);
        List<IMemoryOwner<byte>> blocks = [.. Enumerable.Range(0, burst).Select(_ => pool.Rent())];
        blocks.ForEach(block => block.Dispose()); // Idle now: halved by each trim after the burst's own window.

        long droppedBefore = 0;
        int trims = 0;
        while (collections == 0 && trims < 20)
        {
            droppedBefore = (burst * (long)blockSize) - _factory.PooledBytes;
            _time.Advance(PoolTrimmer.TrimPeriod);
            trims++;
        }

        Assert.Equal(1, collections);
        Assert.True(droppedBefore < PoolTrimmer.CollectAfterDroppedBytes, $"{droppedBefore} bytes were dropped before the trim that asked");
        Assert.True((burst * (long)blockSize) - _factory.PooledBytes >= PoolTrimmer.CollectAfterDroppedBytes);
        _time.Advance(PoolTrimmer.TrimPeriod * 5); // The few blocks left are far below a second threshold.
        Assert.Equal(1, collections);
    }

    [Fact]
    public void Large_buffers_dropped_by_trims_count_toward_the_collection_too()
    {
        int collections = 0;
        _trimmer.RequestCollection = () => collections++;
        // 8 MiB of 256 KiB arrays is the cap for that size; two sizes' worth reach the 16 MiB threshold.
        byte[][] buffers = [.. Enumerable.Range(0, 32).Select(_ => _buffers.Rent(256 * 1024)),
            .. Enumerable.Range(0, 16).Select(_ => _buffers.Rent(512 * 1024))];
        Array.ForEach(buffers, buffer => _buffers.Return(buffer));

        for (int trims = 0; trims < 20 && _buffers.PooledBytes > 0; trims++)
        {
            _time.Advance(PoolTrimmer.TrimPeriod);
        }

        Assert.Equal(0, _buffers.PooledBytes);
        Assert.Equal(16L * 1024 * 1024, _buffers.DroppedBytes);
        Assert.Equal(1, collections);
    }

    [Fact]
    public void Every_trim_also_gives_glibcs_free_native_memory_back()
    {
        int nativeTrims = 0;
        _trimmer.TrimNativeHeap = () => nativeTrims++;

        _time.Advance(PoolTrimmer.TrimPeriod * 3);

        Assert.Equal(3, nativeTrims);
    }
}
