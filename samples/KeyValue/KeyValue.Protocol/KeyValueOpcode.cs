namespace KeyValue.Protocol;

/// <summary>The first byte of every request: what the client asks for.</summary>
public enum KeyValueOpcode : byte
{
    /// <summary>Read a key: <c>01 | key length (u16) | key</c>.</summary>
    Get = 0x01,

    /// <summary>Write a key: <c>02 | key length (u16) | key | expected version (i64) | value</c>.</summary>
    Set = 0x02,

    /// <summary>Remove a key: <c>03 | key length (u16) | key | expected version (i64)</c>.</summary>
    Delete = 0x03,

    /// <summary>This connection's session: <c>04</c> alone.</summary>
    Stats = 0x04,
}
