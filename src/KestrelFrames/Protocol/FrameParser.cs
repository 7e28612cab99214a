using System.Buffers;

namespace KestrelFrames.Protocol;

/// <summary>
/// The server's reading of the wire format (<see cref="FrameCodec"/>): a client frame with the status bit is a
/// protocol error, refused as soon as its header arrives; one over the maximum frame size is refused the same way.
/// </summary>
internal static class FrameParser
{
    /// <summary>
    /// Parses one client frame from the start of <paramref name="buffer"/>. On <see cref="FrameParseResult.Frame"/>,
    /// <paramref name="payload"/> is a slice of the buffer and <paramref name="buffer"/> is advanced past the frame.
    /// </summary>
    public static FrameParseResult TryParse(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out ReadOnlySequence<byte> payload)
    {
        ReadOnlySequence<byte> unread = buffer;
        FrameReadResult result = FrameCodec.TryRead(ref buffer, maxFrameSize, out FrameHeader header, out payload);
        if (header.IsStatus)
        {
            // Whatever length it announces and whether or not it arrived whole: the header alone decides it.
            buffer = unread;
            payload = default;
            return FrameParseResult.ProtocolError;
        }

        return result switch
        {
            FrameReadResult.Frame => FrameParseResult.Frame,
            FrameReadResult.TooLarge => FrameParseResult.FrameTooLarge,
            _ => FrameParseResult.Incomplete,
        };
    }
}
