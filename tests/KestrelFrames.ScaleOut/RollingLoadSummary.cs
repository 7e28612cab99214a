using System.Text.Json;

namespace KestrelFrames.ScaleOut;

/// <summary>What the run saw. Passed: nothing lost, nothing answered twice, every echo right.</summary>
internal sealed record RollingLoadSummary(
    long Completed,
    long Lost,
    long Duplicates,
    long Mismatches,
    long Resent,
    long Reconnects,
    double MaxPauseMs,
    IReadOnlyList<long> CompletedPerSecond)
{
    public bool Passed => Completed > 0 && Lost == 0 && Duplicates == 0 && Mismatches == 0;

    public string ToJson() => JsonSerializer.Serialize(new
    {
        completed = Completed,
        lost = Lost,
        duplicates = Duplicates,
        mismatches = Mismatches,
        resent = Resent,
        reconnects = Reconnects,
        max_pause_ms = Math.Round(MaxPauseMs, 1),
        completed_per_second = CompletedPerSecond,
        passed = Passed,
    });
}
