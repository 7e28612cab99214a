using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Primitives;

/// <summary>
/// Gives Kestrel's socket transport <see cref="BlockMemoryPool"/>s of <see cref="FrameServerOptions.TransportBlockSize"/>
/// instead of its 4 KiB pool. Kestrel asks for a pool per I/O queue, so each gets its own; <see cref="PoolTrimmer"/>
/// trims their idle blocks (see <see cref="BlockMemoryPool.Trim"/>).
/// </summary>
internal sealed partial class BlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    // Idle blocks kept per pool at most, whatever the trim: beyond it they go back to the GC at once.
    private const long RetainedBytes = 32L * 1024 * 1024;
    private readonly List<BlockMemoryPool> _pools = [];
    private readonly IOptions<FrameServerOptions> _options;
    private readonly ILogger<BlockMemoryPoolFactory> _logger;
    private readonly PoolTrimmer _trimmer;
    private int _created;

    public BlockMemoryPoolFactory(IOptions<FrameServerOptions> options, ILogger<BlockMemoryPoolFactory> logger, PoolTrimmer trimmer)
    {
        _options = options;
        _logger = logger;
        _trimmer = trimmer;
    }

    /// <summary>Bytes of transport blocks in use now, across the pools this factory made.</summary>
    public long RentedBytes => Sum(static pool => pool.RentedBytes);

    /// <summary>Bytes of idle transport blocks kept for reuse, across the pools this factory made.</summary>
    public long PooledBytes => Sum(static pool => pool.PooledBytes);

    public MemoryPool<byte> Create(MemoryPoolOptions? poolOptions = null)
    {
        int blockSize = _options.Value.TransportBlockSize;
        if (Interlocked.Increment(ref _created) == 1)
        {
            // Also the proof, in the start-up log, that Kestrel took this pool and not its own.
            LogCreated(_logger, blockSize);
        }

        var pool = new BlockMemoryPool(blockSize, (int)(RetainedBytes / blockSize));
        lock (_pools)
        {
            _pools.Add(pool);
        }

        _trimmer.Add(pool);
        return pool;
    }

    private long Sum(Func<BlockMemoryPool, long> bytes)
    {
        // Pools are made once per I/O queue at bind time; summing at scrape time under the lock costs nothing per request.
        lock (_pools)
        {
            long total = 0;
            foreach (BlockMemoryPool pool in _pools)
            {
                total += bytes(pool);
            }

            return total;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Transport memory pool: {BlockSize}-byte blocks.")]
    private static partial void LogCreated(ILogger logger, int blockSize);
}
