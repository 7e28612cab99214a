using System.Globalization;

namespace KestrelFrames.Bench;

/// <summary>The human-readable report of a <see cref="BenchResult"/>.</summary>
internal static class ResultTable
{
    public static string Format(BenchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new System.Text.StringBuilder();
        string mode = result.Rate is { } rate
            ? Invariant($"open loop at {rate:N0} req/s")
            : Invariant($"closed loop, depth {result.Depth}");
        text.AppendLine(Invariant(
            $"kestrelframes-bench {result.Target}{(result.Tls ? " (TLS)" : "")}: {result.Connections} connections, {mode}, {result.Size} B payload, {result.WarmupSeconds:0.###} s warm-up + {result.DurationSeconds:0.###} s measured, verify {(result.Verify ? "on" : "off")}"));
        text.AppendLine();
        Row(text, "connected", Invariant($"{result.Connected}/{result.Connections}"));
        Row(text, "failed connects", Invariant($"{result.FailedConnects:N0}"));
        Row(text, "requests", Invariant($"{result.Requests:N0}"));
        Row(text, "req/s", Invariant($"{result.RequestsPerSecond:N1}"));
        if (result.Scheduled is { } scheduled)
        {
            Row(text, "scheduled / sent", Invariant($"{scheduled:N0} / {result.Sent:N0}"));
        }

        Row(text, "MB/s tx / rx", Invariant($"{result.TxMegabytesPerSecond:0.000} / {result.RxMegabytesPerSecond:0.000}"));
        LatencySummary latency = result.Latency;
        Row(text, "latency p50 µs", Invariant($"{latency.P50:0.0}"));
        Row(text, "latency p90 µs", Invariant($"{latency.P90:0.0}"));
        Row(text, "latency p99 µs", Invariant($"{latency.P99:0.0}"));
        Row(text, "latency p99.9 µs", Invariant($"{latency.P999:0.0}"));
        Row(text, "latency max µs", Invariant($"{latency.Max:0.0}"));
        Row(text, "latency mean µs", Invariant($"{latency.Mean:0.0}"));
        if (result.SendLag is { } lag)
        {
            Row(text, "send lag mean/max µs", Invariant($"{lag.Mean:0.0} / {lag.Max:0.0}"));
        }

        Row(text, "errors", Invariant($"{result.Errors:N0}"));
        foreach (var (name, count) in result.ErrorsByCode)
        {
            Row(text, "  " + name, Invariant($"{count:N0}"));
        }

        Row(text, "mismatches", Invariant($"{result.Mismatches:N0}"));
        Row(text, "client CPU s", Invariant(
            $"{result.ClientCpuSeconds:0.00} (user {result.ClientUserSeconds:0.00}, sys {result.ClientSystemSeconds:0.00}; {result.ClientCpuPercent:0.0}% of one core)"));
        if (result.FirstError is { } error)
        {
            Row(text, "first error", error);
        }

        if (result.FirstMismatch is { } mismatch)
        {
            Row(text, "first mismatch", mismatch);
        }

        return text.ToString();
    }

    private static void Row(System.Text.StringBuilder text, string name, string value) =>
        text.Append("  ").Append(name.PadRight(22)).AppendLine(value);

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
