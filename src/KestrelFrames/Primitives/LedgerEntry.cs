namespace KestrelFrames.Primitives;

/// <summary>What a connection takes and must give back, as the <see cref="ResourceLedger"/> counts it.</summary>
internal enum LedgerEntry
{
    /// <summary>An answer slot published to the write loop and not yet released.</summary>
    AnswerSlot,

    /// <summary>A pooled array holding a request's payload.</summary>
    RequestBuffer,

    /// <summary>A pooled array holding a handler's answer.</summary>
    ResponseBuffer,
}
