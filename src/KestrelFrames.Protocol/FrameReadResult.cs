namespace KestrelFrames;

/// <summary>What a <see cref="FrameCodec"/> read found at the start of a buffer.</summary>
public enum FrameReadResult
{
    /// <summary>A whole frame was read and consumed.</summary>
    Frame,

    /// <summary>The buffer holds only part of a header or of a payload; read more. Nothing was consumed.</summary>
    Incomplete,

    /// <summary>The header announces more than the reader's maximum payload length. Nothing was consumed.</summary>
    TooLarge,
}
