using System.Globalization;

namespace KestrelFrames.Soak;

/// <summary>The protocol's status codes (docs/protocol.md), by the names the summary counts them under.</summary>
internal static class StatusCodes
{
    public const byte FrameTooLarge = 0x10;
    public const byte ProtocolError = 0x11;
    public const byte FrameTimeout = 0x12;

    public static string Name(byte? code) => code switch
    {
        null => "EmptyStatus",
        0x01 => "Busy",
        0x02 => "HandlerError",
        FrameTooLarge => "FrameTooLarge",
        ProtocolError => "ProtocolError",
        FrameTimeout => "FrameTimeout",
        0x13 => "IdleTimeout",
        0x20 => "ConnectionLimit",
        0x21 => "ShuttingDown",
        _ => "Status0x" + code.Value.ToString("X2", CultureInfo.InvariantCulture),
    };
}
