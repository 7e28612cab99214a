using System.Diagnostics;
using System.Globalization;

namespace KestrelFrames.Soak;

/// <summary>
/// Runs every client kind against every target at once, each as a few workers looping attempts back to back (with
/// a short pause) until the duration is over. Every attempt has a hard limit, so the run ends by itself; a run whose
/// workers do not all finish within a grace period after the duration is reported as hung.
/// </summary>
internal sealed class SoakRunner(SoakOptions options)
{
    private static readonly TimeSpan s_progressEvery = TimeSpan.FromSeconds(30);

    public async Task<SoakSummary> RunAsync()
    {
        ISoakClient[] clients =
        [
            new ChurnClient(options),
            new ResetMidFrameClient(options),
            new ResetMidAnswerClient(options),
            new SlowlorisClient(options),
            new OversizedHeaderClient(options),
            new HighBitHeaderClient(options),
            new NeverReadingClient(options),
        ];
        var tallies = new List<KindTally>();
        var workers = new List<Task>();
        long started = Stopwatch.GetTimestamp();
        long end = started + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
        foreach (SoakTarget target in options.Targets)
        {
            foreach (ISoakClient client in clients)
            {
                var tally = new KindTally(client, target);
                tallies.Add(tally);
                int workersOfKind = client.IsGood ? options.ChurnConcurrency : options.Concurrency;
                for (int i = 0; i < workersOfKind; i++)
                {
                    workers.Add(Task.Run(() => WorkerAsync(client, target, tally, end)));
                }
            }
        }

        Console.Error.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"soak clients: {workers.Count} workers, {clients.Length} kinds x {options.Targets.Count} targets ({string.Join(", ", options.Targets)}), {options.Duration.TotalSeconds:0} s"));
        Task all = Task.WhenAll(workers);
        using var stopProgress = new CancellationTokenSource();
        Task progress = ProgressAsync(tallies, started, stopProgress.Token);

        // Every attempt stops by its own limit; the grace covers the last ones, which may start just before the end.
        Task grace = Task.Delay(options.Duration + options.AttemptLimit + SoakOptions.Slack);
        bool finished = await Task.WhenAny(all, grace) == all;
        await stopProgress.CancelAsync();
        await progress;

        // A worker that threw is a bug of this tool; its kind stopped being tested, so the run cannot pass.
        string? crash = all.IsFaulted ? ExceptionLabels.Describe(all.Exception.InnerException ?? all.Exception) : null;
        return new SoakSummary(tallies, finished, crash, Stopwatch.GetElapsedTime(started));
    }

    private async Task WorkerAsync(ISoakClient client, SoakTarget target, KindTally tally, long end)
    {
        for (int attempt = 0; Stopwatch.GetTimestamp() < end; attempt++)
        {
            using var limit = new CancellationTokenSource(options.AttemptLimit);
            long started = Stopwatch.GetTimestamp();
            Outcome outcome;
            try
            {
                outcome = await client.RunOnceAsync(target, attempt, limit.Token);
            }
            catch (Exception ex) when (ExceptionLabels.IsConnectionFailure(ex))
            {
                // The kinds catch what they expect; anything that still gets here is judged by the kind's role.
                string label = ExceptionLabels.Of(ex);
                outcome = client.IsGood ? Outcome.Failure(label, ExceptionLabels.Describe(ex)) : Outcome.Unexpected(label, ExceptionLabels.Describe(ex));
            }

            tally.Add(outcome, Stopwatch.GetElapsedTime(started));
            await Task.Delay(options.Pause);
        }
    }

    private static async Task ProgressAsync(List<KindTally> tallies, long started, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(s_progressEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                Console.Error.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"soak clients: {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s, {tallies.Sum(t => t.Attempts):N0} connections, {tallies.Sum(t => t.Failures)} failures, {tallies.Sum(t => t.Unexpected)} unexpected"));
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }
}
