namespace KestrelFrames.Protocol;

/// <summary>What <see cref="ProxyProtocolParser.TryParse"/> found at the start of a connection.</summary>
internal enum ProxyParseResult
{
    /// <summary>A whole, valid header; it was consumed.</summary>
    Parsed,

    /// <summary>Too few bytes to decide; read more.</summary>
    Incomplete,

    /// <summary>The bytes are not a PROXY header (a client speaking the frame protocol directly).</summary>
    NotProxy,

    /// <summary>The bytes start like a PROXY header but break its rules.</summary>
    Invalid,
}
