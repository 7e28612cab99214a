namespace KestrelFrames.Primitives;

/// <summary>A pool whose idle memory <see cref="PoolTrimmer"/> lets decay after a burst.</summary>
internal interface ITrimmablePool
{
    /// <summary>Bytes left to the GC since the pool was made (over its cap, or trimmed).</summary>
    long DroppedBytes { get; }

    /// <summary>Drops part of what no rent needed since the last call (see <see cref="IdleList{T}.Trim"/>).</summary>
    void Trim();
}
