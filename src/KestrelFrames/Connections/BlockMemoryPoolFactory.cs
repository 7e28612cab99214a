using System.Buffers;
using KestrelFrames.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Connections;

/// <summary>
/// Gives Kestrel's socket transport <see cref="BlockMemoryPool"/>s of <see cref="FrameServerOptions.TransportBlockSize"/>
/// instead of its 4 KiB pool. Kestrel asks for a pool per I/O queue, so each gets its own.
/// </summary>
internal sealed partial class BlockMemoryPoolFactory(IOptions<FrameServerOptions> options, ILogger<BlockMemoryPoolFactory> logger) : IMemoryPoolFactory<byte>
{
    // Idle blocks kept per pool after a burst; beyond it they go back to the GC.
    private const long RetainedBytes = 32L * 1024 * 1024;
    private int _created;

    public MemoryPool<byte> Create(MemoryPoolOptions? poolOptions = null)
    {
        int blockSize = options.Value.TransportBlockSize;
        if (Interlocked.Increment(ref _created) == 1)
        {
            // Also the proof, in the start-up log, that Kestrel took this pool and not its own.
            LogCreated(logger, blockSize);
        }

        return new BlockMemoryPool(blockSize, (int)(RetainedBytes / blockSize));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Transport memory pool: {BlockSize}-byte blocks.")]
    private static partial void LogCreated(ILogger logger, int blockSize);
}
