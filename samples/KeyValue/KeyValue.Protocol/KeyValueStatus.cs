namespace KeyValue.Protocol;

/// <summary>The first byte of every answer.</summary>
/// <remarks>
/// These are the key-value protocol's own outcomes, inside an ordinary frame. They are not KestrelFrames' status
/// frames (Busy, HandlerError, ...), which the server sends in place of an answer and the client library reports as
/// a <c>FrameResponseStatus</c>.
/// </remarks>
public enum KeyValueStatus : byte
{
    /// <summary>Done. The version and the body depend on the opcode (see <see cref="KeyValueCodec"/>).</summary>
    Ok = 0x00,

    /// <summary>GET or DELETE of a key that does not exist. Version 0, no body.</summary>
    NotFound = 0x01,

    /// <summary>
    /// A compare-and-set lost: the key's version is not the one the request expected. The version field is the
    /// key's current version (0 when it does not exist), so the client can read again and retry.
    /// </summary>
    VersionMismatch = 0x02,

    /// <summary>The request was malformed (truncated, trailing bytes, bad key...). Body: a UTF-8 reason.</summary>
    BadRequest = 0x10,

    /// <summary>The opcode is not one this server knows. Body: a UTF-8 reason.</summary>
    UnknownOpcode = 0x11,
}
