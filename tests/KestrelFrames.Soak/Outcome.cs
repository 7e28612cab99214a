namespace KestrelFrames.Soak;

/// <summary>
/// One attempt's result: a short label counted in the summary (a status name, "ok", "aborted", ...), its verdict,
/// how many answers were checked byte for byte on the way, and for anything not expected, what happened.
/// </summary>
internal readonly record struct Outcome(string Label, Verdict Verdict, int Echoes = 0, string? Detail = null)
{
    public static Outcome Expected(string label, int echoes = 0) => new(label, Verdict.Expected, echoes);

    public static Outcome Unexpected(string label, string detail, int echoes = 0) => new(label, Verdict.Unexpected, echoes, detail);

    public static Outcome Failure(string label, string detail, int echoes = 0) => new(label, Verdict.Failure, echoes, detail);
}
