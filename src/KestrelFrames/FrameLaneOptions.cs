namespace KestrelFrames;

/// <summary>
/// One priority lane, section <c>Frames:Lanes:&lt;name&gt;</c>. Requests an <see cref="IFrameLaneClassifier"/> puts
/// in it wait in a queue of their own, and idle workers take the highest lane's work first. Everything the
/// classifier does not place runs in the default lane, which keeps <c>Frames:QueueCapacity</c> and priority 0.
/// </summary>
public sealed class FrameLaneOptions
{
    /// <summary>
    /// Above 0 the lane's work runs before the default lane's, below 0 after it; the highest first among lanes.
    /// Required: not 0, and no two lanes alike.
    /// </summary>
    public int Priority { get; set; }

    /// <summary>
    /// Work items that may wait in this lane, counted like <c>Frames:QueueCapacity</c>. When it is full, this lane's
    /// requests get <c>Frames:OverloadMode</c> (Busy or backpressure); other lanes are not affected. Default 1024.
    /// </summary>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>
    /// Workers out of <c>Frames:Workers</c> that only this lane may use, so that however busy the other lanes are, this
    /// one always has them. The lane may use the shared workers (those no lane reserves) too. The lanes together
    /// must leave at least one worker shared. Default 0: priority only.
    /// </summary>
    public int ReservedWorkers { get; set; }
}
