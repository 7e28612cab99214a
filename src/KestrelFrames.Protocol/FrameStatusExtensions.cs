namespace KestrelFrames;

/// <summary>What a <see cref="FrameStatus"/> means for the connection it arrives on.</summary>
public static class FrameStatusExtensions
{
    /// <summary>The first code that is the server's last frame before it closes the connection.</summary>
    public const byte FirstConnectionEndingCode = 0x10;

    /// <summary>True for codes from 0x10 up: the server closes the connection after this frame.</summary>
    public static bool IsConnectionEnding(this FrameStatus status) => (byte)status >= FirstConnectionEndingCode;
}
