using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HdrHistogram;

namespace KestrelFrames.Bench;

/// <summary>
/// Runs a benchmark: connects every connection (failures are counted, the run goes on with the rest), runs the
/// load for warm-up plus duration, half-closes, waits for the server to answer and close, and sums it all up.
/// </summary>
internal static class BenchRunner
{
    private const int ConnectsInFlight = 100;

    public static async Task<BenchResult> RunAsync(BenchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        // Off the caller's synchronization context, if it has one: none of the run's continuations should queue there.
        return await Task.Run(() => RunCoreAsync(options, cancellationToken), CancellationToken.None);
    }

    private static async Task<BenchResult> RunCoreAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = IPAddress.TryParse(options.Host, out IPAddress? literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(options.Host, cancellationToken);

        var (transports, failedConnects, firstConnectError) = await ConnectAllAsync(addresses, options, cancellationToken);
        if (transports.Count == 0)
        {
            return Summarize(options, run: null, [], failedConnects, firstConnectError, cpu: default);
        }

        var run = new BenchRun(options, transports.Count, Stopwatch.GetTimestamp());
        ulong runSalt = (ulong)Random.Shared.NextInt64();
        var connections = new BenchConnection[transports.Count];
        for (int i = 0; i < connections.Length; i++)
        {
            connections[i] = BenchConnection.Create(run, transports[i].Socket, transports[i].Stream, i, runSalt);
        }

        try
        {
            foreach (BenchConnection connection in connections)
            {
                connection.Start();
            }

            Pacer? pacer = run.Schedule is null ? null : new Pacer(run, connections);
            pacer?.Start();

            using var progressStop = new CancellationTokenSource();
            Task progress = options.Progress is { } writer
                ? ProgressAsync(run, connections, writer, options.ProgressIsTerminal, progressStop.Token)
                : Task.CompletedTask;

            CpuSample cpuStart = default;
            CpuSample cpuEnd;
            try
            {
                await DelayUntilAsync(run.WarmEnd, cancellationToken);
                cpuStart = CpuSample.Take();
                await DelayUntilAsync(run.End, cancellationToken);
                cpuEnd = CpuSample.Take();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                run.EndNow();
                cpuEnd = CpuSample.Take();
                if (cpuStart.Wall == 0)
                {
                    cpuStart = cpuEnd;
                }
            }

            // The send loops stop at End and half-close; the server answers what it has and closes.
            run.Stop();
            foreach (BenchConnection connection in connections)
            {
                connection.Wake();
            }

            if (pacer is not null)
            {
                await pacer.Stopped;
            }

            Task all = Task.WhenAll(connections.Select(c => c.Completion));
            try
            {
                await all.WaitAsync(options.DrainTimeout, CancellationToken.None);
            }
            catch (TimeoutException)
            {
                foreach (BenchConnection connection in connections)
                {
                    connection.Abort();
                }

                await all;
            }

            await progressStop.CancelAsync();
            await progress;
            return Summarize(options, run, connections, failedConnects, firstConnectError, (cpuStart, cpuEnd));
        }
        finally
        {
            foreach (BenchConnection connection in connections)
            {
                connection.Dispose();
            }
        }
    }

    private static async Task<(List<(Socket Socket, Stream Stream)> Transports, long Failed, string? FirstError)> ConnectAllAsync(
        IPAddress[] addresses, BenchOptions options, CancellationToken cancellationToken)
    {
        var slots = new (Socket Socket, Stream Stream)?[options.Connections];
        long failed = 0;
        string? firstError = null;
        using var gate = new SemaphoreSlim(ConnectsInFlight);
        var attempts = new List<Task>(options.Connections);
        try
        {
            for (int i = 0; i < options.Connections; i++)
            {
                int slot = i;
                await gate.WaitAsync(cancellationToken);
                attempts.Add(Task.Run(
                    async () =>
                    {
                        try
                        {
                            slots[slot] = await BenchConnector.ConnectAsync(addresses, options, cancellationToken);
                        }
                        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
                        {
                            Interlocked.Increment(ref failed);
                            Interlocked.CompareExchange(ref firstError, "connect: " + exception.Message, null);
                        }
                        finally
                        {
                            gate.Release();
                        }
                    },
                    CancellationToken.None));
            }

            await Task.WhenAll(attempts);
        }
        catch (OperationCanceledException)
        {
            await Task.WhenAll(attempts).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var transport in slots)
            {
                transport?.Stream.Dispose();
            }

            throw;
        }

        return ([.. slots.Where(s => s.HasValue).Select(s => s!.Value)], failed, firstError);
    }

    private static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        while (true)
        {
            long remaining = timestamp - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return;
            }

            // Timers round to milliseconds: round up, so the wait never ends early.
            double milliseconds = Math.Ceiling(BenchRun.ToSeconds(remaining) * 1000);
            await Task.Delay(TimeSpan.FromMilliseconds(milliseconds), cancellationToken);
        }
    }

    private static async Task ProgressAsync(BenchRun run, BenchConnection[] connections, TextWriter writer, bool terminal, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long previous = 0;
        long previousAt = run.Start;
        string? last = null;
        int width = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                long now = Stopwatch.GetTimestamp();
                long ok = 0;
                long mismatches = 0;
                foreach (BenchConnection connection in connections)
                {
                    ok += connection.OkTotal;
                    mismatches += connection.Mismatches;
                }

                double rate = (ok - previous) / BenchRun.ToSeconds(now - previousAt);
                previous = ok;
                previousAt = now;
                string phase = now < run.WarmEnd ? "warm-up" : "measuring";
                last = string.Create(
                    CultureInfo.InvariantCulture,
                    $"[{BenchRun.ToSeconds(now - run.Start),5:0}s] {phase,-9} {rate,12:N0} req/s   errors {run.Errors.Total:N0}   mismatches {mismatches:N0}");
                if (terminal)
                {
                    // Pad over a longer previous line.
                    await writer.WriteAsync("\r" + last.PadRight(width));
                    width = last.Length;
                }
                else
                {
                    await writer.WriteLineAsync(last);
                }

                await writer.FlushAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        if (terminal && last is not null)
        {
            await writer.WriteLineAsync();
        }
    }

    private static BenchResult Summarize(
        BenchOptions options,
        BenchRun? run,
        BenchConnection[] connections,
        long failedConnects,
        string? firstConnectError,
        (CpuSample Start, CpuSample End) cpu)
    {
        double window = run is null ? 0 : Math.Max(0, BenchRun.ToSeconds(run.End - run.WarmEnd));
        long requests = 0;
        long sent = 0;
        long txBytes = 0;
        long rxBytes = 0;
        long mismatches = 0;
        long lagSum = 0;
        long lagMax = 0;
        long scheduled = 0;
        for (int i = 0; i < connections.Length; i++)
        {
            BenchConnection connection = connections[i];
            requests += connection.OkInWindow;
            sent += connection.SentInWindow;
            txBytes += connection.TxBytesInWindow;
            rxBytes += connection.RxBytesInWindow;
            mismatches += connection.Mismatches;
            lagSum += connection.LagSumTicks;
            lagMax = Math.Max(lagMax, connection.LagMaxTicks);
            if (run?.Schedule is { } schedule && run.End > run.WarmEnd)
            {
                scheduled += schedule.DueCount(i, run.End - 1) - schedule.DueCount(i, run.WarmEnd - 1);
            }
        }

        LongHistogram? histogram = run?.Latency.Merge();
        long errors = run?.Errors.Total ?? 0;
        int exitCode = errors > 0 || failedConnects > 0
            ? BenchResult.ExitErrors
            : mismatches > 0 ? BenchResult.ExitMismatches : BenchResult.ExitOk;
        double cpuSeconds = (cpu.End.User - cpu.Start.User + cpu.End.System - cpu.Start.System).TotalSeconds;
        double cpuWindow = BenchRun.ToSeconds(cpu.End.Wall - cpu.Start.Wall);
        return new BenchResult
        {
            Target = FormatTarget(options.Host, options.Port),
            Tls = options.Tls || options.TlsInsecure,
            Mode = options.Rate is null ? "closed" : "open",
            Connections = options.Connections,
            Depth = options.Depth,
            Size = options.Size,
            Rate = options.Rate,
            Verify = options.Verify,
            WarmupSeconds = options.Warmup.TotalSeconds,
            DurationSeconds = Math.Round(window, 3),
            Connected = connections.Length,
            FailedConnects = failedConnects,
            Requests = requests,
            RequestsPerSecond = window > 0 ? Math.Round(requests / window, 1) : 0,
            Sent = sent,
            Scheduled = options.Rate is null ? null : scheduled,
            TxMegabytesPerSecond = window > 0 ? Math.Round(txBytes / window / 1e6, 3) : 0,
            RxMegabytesPerSecond = window > 0 ? Math.Round(rxBytes / window / 1e6, 3) : 0,
            Latency = Summarize(histogram),
            SendLag = options.Rate is null ? null : new SendLag
            {
                Mean = sent > 0 ? Microseconds(lagSum / (double)sent) : 0,
                Max = Microseconds(lagMax),
            },
            Errors = errors,
            ErrorsByCode = run?.Errors.ByName() ?? new SortedDictionary<string, long>(StringComparer.Ordinal),
            Mismatches = mismatches,
            ClientCpuSeconds = Math.Round(cpuSeconds, 3),
            ClientUserSeconds = Math.Round((cpu.End.User - cpu.Start.User).TotalSeconds, 3),
            ClientSystemSeconds = Math.Round((cpu.End.System - cpu.Start.System).TotalSeconds, 3),
            ClientCpuPercent = cpuWindow > 0 ? Math.Round(100 * cpuSeconds / cpuWindow, 1) : 0,
            FirstError = firstConnectError ?? run?.Errors.First,
            FirstMismatch = run?.FirstMismatch,
            ExitCode = exitCode,
        };
    }

    private static LatencySummary Summarize(LongHistogram? histogram)
    {
        if (histogram is null || histogram.TotalCount == 0)
        {
            return new LatencySummary();
        }

        return new LatencySummary
        {
            Samples = histogram.TotalCount,
            P50 = Microseconds(histogram.GetValueAtPercentile(50)),
            P90 = Microseconds(histogram.GetValueAtPercentile(90)),
            P99 = Microseconds(histogram.GetValueAtPercentile(99)),
            P999 = Microseconds(histogram.GetValueAtPercentile(99.9)),
            Max = Microseconds(histogram.GetMaxValue()),
            Mean = Microseconds(histogram.GetMean()),
        };
    }

    private static double Microseconds(double ticks) => Math.Round(ticks * 1e6 / Stopwatch.Frequency, 1);

    private static string FormatTarget(string host, int port) =>
        (host.Contains(':', StringComparison.Ordinal) ? "[" + host + "]" : host) + ":" + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>This process's CPU times and the wall clock they were read at.</summary>
    private readonly record struct CpuSample(TimeSpan User, TimeSpan System, long Wall)
    {
        public static CpuSample Take()
        {
            using var process = Process.GetCurrentProcess();
            return new CpuSample(process.UserProcessorTime, process.PrivilegedProcessorTime, Stopwatch.GetTimestamp());
        }
    }
}
