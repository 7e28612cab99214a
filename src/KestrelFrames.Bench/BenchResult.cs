using System.Text.Json.Serialization;

namespace KestrelFrames.Bench;

/// <summary>What a run measured; printed as the table or, with <c>--json</c>, as one JSON object.</summary>
internal sealed class BenchResult
{
    public const int ExitOk = 0;
    public const int ExitErrors = 2;
    public const int ExitMismatches = 3;

    [JsonPropertyName("target")]
    public string Target { get; init; } = "";

    [JsonPropertyName("tls")]
    public bool Tls { get; init; }

    /// <summary>"closed" (connections x depth) or "open" (--rate).</summary>
    [JsonPropertyName("mode")]
    public string Mode { get; init; } = "closed";

    [JsonPropertyName("connections")]
    public int Connections { get; init; }

    [JsonPropertyName("depth")]
    public int Depth { get; init; }

    [JsonPropertyName("size")]
    public int Size { get; init; }

    /// <summary>Open loop: the requested total rate; null in the closed loop.</summary>
    [JsonPropertyName("rate")]
    public double? Rate { get; init; }

    [JsonPropertyName("verify")]
    public bool Verify { get; init; }

    [JsonPropertyName("warmup_s")]
    public double WarmupSeconds { get; init; }

    /// <summary>The measured window as it ran (shorter than asked when cancelled).</summary>
    [JsonPropertyName("duration_s")]
    public double DurationSeconds { get; init; }

    [JsonPropertyName("connected")]
    public int Connected { get; init; }

    [JsonPropertyName("failed_connects")]
    public long FailedConnects { get; init; }

    /// <summary>Successful (non-status) answers received in the measured window.</summary>
    [JsonPropertyName("requests")]
    public long Requests { get; init; }

    [JsonPropertyName("requests_per_s")]
    public double RequestsPerSecond { get; init; }

    /// <summary>Requests written in the measured window.</summary>
    [JsonPropertyName("sent")]
    public long Sent { get; init; }

    /// <summary>Open loop: requests the schedule put in the measured window; null in the closed loop.</summary>
    [JsonPropertyName("scheduled")]
    public long? Scheduled { get; init; }

    /// <summary>Request payload bytes per second sent in the window, in 10^6 bytes.</summary>
    [JsonPropertyName("tx_mb_per_s")]
    public double TxMegabytesPerSecond { get; init; }

    /// <summary>Answer payload bytes per second received in the window, in 10^6 bytes.</summary>
    [JsonPropertyName("rx_mb_per_s")]
    public double RxMegabytesPerSecond { get; init; }

    [JsonPropertyName("latency_us")]
    public LatencySummary Latency { get; init; } = new();

    /// <summary>Open loop: how late requests left after their intended send time; null in the closed loop.</summary>
    [JsonPropertyName("send_lag_us")]
    public SendLag? SendLag { get; init; }

    /// <summary>Status frames and connection errors, from the start of the load to the end of the window.</summary>
    [JsonPropertyName("errors")]
    public long Errors { get; init; }

    [JsonPropertyName("errors_by_code")]
    public SortedDictionary<string, long> ErrorsByCode { get; init; } = new(StringComparer.Ordinal);

    [JsonPropertyName("mismatches")]
    public long Mismatches { get; init; }

    /// <summary>This process's CPU time (user + system) over the measured window.</summary>
    [JsonPropertyName("client_cpu_s")]
    public double ClientCpuSeconds { get; init; }

    [JsonPropertyName("client_user_s")]
    public double ClientUserSeconds { get; init; }

    [JsonPropertyName("client_sys_s")]
    public double ClientSystemSeconds { get; init; }

    /// <summary>Client CPU as a percentage of one core over the window.</summary>
    [JsonPropertyName("client_cpu_pct")]
    public double ClientCpuPercent { get; init; }

    [JsonPropertyName("first_error")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FirstError { get; init; }

    [JsonPropertyName("first_mismatch")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FirstMismatch { get; init; }

    /// <summary>0 ok, 2 errors or failed connects, 3 mismatches (and no errors).</summary>
    [JsonPropertyName("exit_code")]
    public int ExitCode { get; init; }
}

/// <summary>Latency quantiles in microseconds, from the HdrHistogram of the measured window.</summary>
internal sealed class LatencySummary
{
    [JsonPropertyName("samples")]
    public long Samples { get; init; }

    [JsonPropertyName("p50")]
    public double P50 { get; init; }

    [JsonPropertyName("p90")]
    public double P90 { get; init; }

    [JsonPropertyName("p99")]
    public double P99 { get; init; }

    [JsonPropertyName("p999")]
    public double P999 { get; init; }

    [JsonPropertyName("max")]
    public double Max { get; init; }

    [JsonPropertyName("mean")]
    public double Mean { get; init; }
}

/// <summary>Open loop: actual minus intended send time, in microseconds.</summary>
internal sealed class SendLag
{
    [JsonPropertyName("mean")]
    public double Mean { get; init; }

    [JsonPropertyName("max")]
    public double Max { get; init; }
}

/// <summary>Source-generated serialization, so the tool stays trimming-friendly.</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(BenchResult))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
