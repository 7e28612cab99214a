using System.Buffers;

namespace KestrelFrames.Client.Framing;

/// <summary>One frame from the server, as a slice of the read buffer: valid until the reader is advanced.</summary>
internal readonly struct InboundFrame(bool isStatus, ReadOnlySequence<byte> payload)
{
    /// <summary>True for a status frame (header high bit set): byte 0 of the payload is the code.</summary>
    public bool IsStatus { get; } = isStatus;

    /// <summary>The frame's payload.</summary>
    public ReadOnlySequence<byte> Payload { get; } = payload;

    /// <summary>The status code of a status frame; 0 when the frame is not a status frame or carries no code.</summary>
    public byte StatusCode => IsStatus && !Payload.IsEmpty ? Payload.FirstSpan[0] : (byte)0;
}
