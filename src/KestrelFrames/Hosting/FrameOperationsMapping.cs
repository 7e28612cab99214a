namespace KestrelFrames.Hosting;

/// <summary>Whether the app mapped the operations endpoints itself, so that they are not served twice.</summary>
internal sealed class FrameOperationsMapping
{
    public bool MappedByApp { get; set; }
}
