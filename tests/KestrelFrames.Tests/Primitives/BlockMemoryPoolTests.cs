using System.Buffers;
using KestrelFrames.Primitives;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Primitives;

public sealed class BlockMemoryPoolTests
{
    [Fact]
    public void A_rented_block_is_the_whole_block_size_and_comes_back_on_the_next_rent()
    {
        using var pool = new BlockMemoryPool(blockSize: 8192, retained: 4);

        IMemoryOwner<byte> first = pool.Rent(100);
        Memory<byte> memory = first.Memory;
        first.Dispose();
        using IMemoryOwner<byte> second = pool.Rent();

        Assert.Equal(8192, memory.Length);
        Assert.Equal(8192, pool.MaxBufferSize);
        Assert.True(second.Memory.Span.Overlaps(memory.Span), "a returned block was not reused");
    }

    [Fact]
    public void Blocks_returned_beyond_the_retained_count_are_dropped()
    {
        using var pool = new BlockMemoryPool(blockSize: 4096, retained: 1);
        IMemoryOwner<byte> a = pool.Rent();
        IMemoryOwner<byte> b = pool.Rent();
        Memory<byte> aMemory = a.Memory, bMemory = b.Memory;

        a.Dispose();
        b.Dispose(); // Over the cap of one: left to the GC.
        using IMemoryOwner<byte> reused = pool.Rent();
        using IMemoryOwner<byte> fresh = pool.Rent();

        Assert.True(reused.Memory.Span.Overlaps(aMemory.Span));
        Assert.False(fresh.Memory.Span.Overlaps(aMemory.Span) || fresh.Memory.Span.Overlaps(bMemory.Span));
    }

    [Fact]
    public void Idle_blocks_no_rent_needed_for_a_whole_trim_window_are_dropped_by_half_until_none_are_left()
    {
        using var pool = new BlockMemoryPool(blockSize: 4096, retained: 100);
        ReturnAll(RentMany(pool, 8));
        pool.Trim(); // The window in which the burst returned its blocks: they were just needed.

        Assert.Equal(8 * 4096, pool.PooledBytes);
        Assert.Equal(4, pool.Trim());
        Assert.Equal(2, pool.Trim());
        Assert.Equal(1, pool.Trim());
        Assert.Equal(1, pool.Trim());
        Assert.Equal(0, pool.PooledBytes);
        Assert.Equal(0, pool.RentedBytes);
    }

    [Fact]
    public void Idle_blocks_a_load_keeps_renting_are_not_trimmed()
    {
        using var pool = new BlockMemoryPool(blockSize: 4096, retained: 100);
        ReturnAll(RentMany(pool, 4));
        pool.Trim();

        for (int window = 0; window < 3; window++)
        {
            ReturnAll(RentMany(pool, 4)); // Every window the load needs all four.
            Assert.Equal(0, pool.Trim());
        }

        Assert.Equal(4 * 4096, pool.PooledBytes);
    }

    private static List<IMemoryOwner<byte>> RentMany(MemoryPool<byte> pool, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => pool.Rent())];

    private static void ReturnAll(List<IMemoryOwner<byte>> blocks) => blocks.ForEach(block => block.Dispose());

    [Fact]
    public void Asking_for_more_than_a_block_throws()
    {
        using var pool = new BlockMemoryPool(blockSize: 4096, retained: 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(4097));
    }

    [Fact]
    public async Task The_transport_reads_into_blocks_of_the_configured_size_and_frames_spanning_blocks_are_echoed()
    {
        int? blockSize = null;
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?> { ["Frames:TransportBlockSize"] = "16384" },
            services => services.Configure<KestrelServerOptions>(kestrel => kestrel.ConfigureEndpointDefaults(listen =>
                listen.Use(next => connection =>
                {
                    blockSize = connection.Features.Get<IMemoryPoolFeature>()?.MemoryPool.MaxBufferSize;
                    return next(connection);
                }))));
        using var client = await server.ConnectAsync();
        byte[] payload = [.. Enumerable.Range(0, 100_000).Select(i => (byte)i)];

        await client.SendFrameAsync(payload);

        Assert.Equal(payload, (await client.ReadRequiredFrameAsync()).Payload);
        Assert.Equal(16384, blockSize);
    }

    [Fact]
    public async Task The_real_host_hands_its_transport_the_frame_servers_pool()
    {
        await using var server = ServerProcess.Start("--Frames:TransportBlockSize=65536");
        using var client = await FrameTestClient.ConnectAsync(await server.FramesEndPoint);
        byte[] payload = [.. Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7))];

        await client.SendFrameAsync(payload);

        Assert.Equal(payload, (await client.ReadRequiredFrameAsync()).Payload);

        // Logged when Kestrel asks this factory for its pool, at bind: before the endpoint above was known.
        Assert.Contains("Transport memory pool: 65536-byte blocks.", server.Output, StringComparison.Ordinal);
    }
}
