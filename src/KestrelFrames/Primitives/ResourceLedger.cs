using System.Diagnostics;

namespace KestrelFrames.Primitives;

/// <summary>
/// Counts what connections take and give back, as Netty's ResourceLeakDetector does for its buffers, so that a test
/// can assert everything is back once its connections have closed. Counting is compiled into Debug builds only (the
/// test build): a shipped server pays nothing for it. Transport blocks and budget bytes have counters of their own
/// (<c>BlockMemoryPool</c>, <c>BufferBudget</c>) because metrics need them in every build.
/// </summary>
internal sealed class ResourceLedger
{
    private readonly long[] _outstanding = new long[Enum.GetValues<LedgerEntry>().Length];

    [Conditional("DEBUG")]
    public void Took(LedgerEntry entry) => Interlocked.Increment(ref _outstanding[(int)entry]);

    [Conditional("DEBUG")]
    public void Returned(LedgerEntry entry) => Interlocked.Decrement(ref _outstanding[(int)entry]);

    /// <summary>How many of <paramref name="entry"/> are taken and not returned (always 0 in a Release build).</summary>
    public long Outstanding(LedgerEntry entry) => Interlocked.Read(ref _outstanding[(int)entry]);
}
