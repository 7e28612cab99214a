namespace KestrelFrames.Protocol;

/// <summary>What <see cref="FrameParser.TryParse"/> found at the start of the buffer.</summary>
internal enum FrameParseResult
{
    /// <summary>A whole frame was parsed and consumed.</summary>
    Frame,

    /// <summary>The buffer holds only part of a header or payload; read more.</summary>
    Incomplete,

    /// <summary>The header announces more than the maximum frame size; nothing was consumed.</summary>
    FrameTooLarge,

    /// <summary>The header has its high bit set; nothing was consumed.</summary>
    ProtocolError,
}
