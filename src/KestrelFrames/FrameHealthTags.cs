namespace KestrelFrames;

/// <summary>Tags that select health checks for each endpoint.</summary>
public static class FrameHealthTags
{
    /// <summary>Checks that decide whether the process should be restarted (<c>/health/live</c>).</summary>
    public const string Live = "live";

    /// <summary>Checks that decide whether the server should get new connections (<c>/health/ready</c>, <c>/health</c>).</summary>
    public const string Ready = "ready";
}
