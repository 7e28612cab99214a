namespace KestrelFrames.Processing;

/// <summary>Names of the lanes the server defines itself.</summary>
internal static class LaneNames
{
    /// <summary>The lane of every request no classifier places elsewhere; index 0 of the pool's lanes.</summary>
    public const string Default = "default";
}
