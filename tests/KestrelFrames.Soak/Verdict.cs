namespace KestrelFrames.Soak;

/// <summary>How one attempt of a client kind ended, as far as the pass/fail of the run goes.</summary>
internal enum Verdict
{
    /// <summary>What the protocol promises for this kind.</summary>
    Expected,

    /// <summary>Not what this kind expects, but no proof of a server bug (for example a hostile client's connect failed): reported only.</summary>
    Unexpected,

    /// <summary>A broken promise of the protocol (a good request answered wrongly or not at all, a wrong status, a reset where a graceful close is promised): fails the run.</summary>
    Failure,
}
