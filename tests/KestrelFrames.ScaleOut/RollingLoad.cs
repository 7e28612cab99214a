using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using KestrelFrames.Client;

namespace KestrelFrames.ScaleOut;

/// <summary>
/// Connections × depth lanes, each sending a request tagged with a unique sequence number and awaiting its echo.
/// A request is lost if its SendAsync fails (the client gave up), answered twice if its sequence number completes
/// twice, and wrong if the echo differs. Resending is the client's: it resends only what the server never answered.
/// </summary>
internal sealed class RollingLoad(RollingLoadOptions options)
{
    private readonly ConcurrentDictionary<long, byte> _completed = new();
    private readonly ConcurrentQueue<long> _completionTimes = new();
    private long _sequence;
    private long _lost;
    private long _duplicates;
    private long _mismatches;

    public async Task<RollingLoadSummary> RunAsync()
    {
        var clientOptions = new FrameClientOptions
        {
            HeartbeatInterval = TimeSpan.FromSeconds(10),
            Reconnect = new FrameReconnectOptions
            {
                MaxReconnectAttempts = 100,
                ReconnectDelay = TimeSpan.FromMilliseconds(20),
                MaxReconnectDelay = TimeSpan.FromMilliseconds(500),

                // Strict: a connection that drops without ShuttingDown fails its requests instead of resending
                // them blindly, so a broken drain shows up as lost requests.
                ResendAfterConnectionLoss = false,
            },
        };
        var clients = await Task.WhenAll(Enumerable.Range(0, options.Connections)
            .Select(_ => FrameClient.ConnectAsync(options.Host, options.Port, clientOptions).AsTask()));
        using var stop = new CancellationTokenSource();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopped.TrySetResult();
        });
        long started = Stopwatch.GetTimestamp();
        var lanes = clients.SelectMany(client => Enumerable.Range(0, options.Depth).Select(_ => LaneAsync(client, stop.Token))).ToArray();
        Console.Error.WriteLine($"scale-out load: {options.Connections} connections x {options.Depth} in flight to {options.Host}:{options.Port}; SIGTERM stops it");

        await stopped.Task;
        await stop.CancelAsync();
        await Task.WhenAll(lanes);
        long resent = clients.Sum(c => c.ResentRequests);
        long reconnects = clients.Sum(c => c.Reconnects);
        foreach (FrameClient client in clients)
        {
            await client.DisposeAsync();
        }

        return new RollingLoadSummary(_completed.Count, _lost, _duplicates, _mismatches, resent, reconnects, MaxPauseMs(), PerSecond(started));
    }

    private async Task LaneAsync(FrameClient client, CancellationToken stop)
    {
        byte[] payload = new byte[16];
        while (!stop.IsCancellationRequested)
        {
            long sequence = Interlocked.Increment(ref _sequence);
            BinaryPrimitives.WriteInt64BigEndian(payload, sequence);
            BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(8), ~sequence);
            FrameResponse response;
            try
            {
                // Not cancelled by stop: a request once sent is awaited to its answer, so none is left unaccounted.
                response = await client.SendAsync(payload, CancellationToken.None);
            }
            catch (FrameConnectionClosedException)
            {
                Interlocked.Increment(ref _lost);
                continue;
            }

            if (!response.IsOk || !response.Payload.Span.SequenceEqual(payload))
            {
                Interlocked.Increment(ref _mismatches);
            }

            if (!_completed.TryAdd(sequence, 0))
            {
                Interlocked.Increment(ref _duplicates);
            }

            _completionTimes.Enqueue(Stopwatch.GetTimestamp());
        }
    }

    private double MaxPauseMs()
    {
        long[] times = [.. _completionTimes.Order()];
        long max = 0;
        for (int i = 1; i < times.Length; i++)
        {
            max = Math.Max(max, times[i] - times[i - 1]);
        }

        return max * 1000.0 / Stopwatch.Frequency;
    }

    private long[] PerSecond(long started)
    {
        long[] times = [.. _completionTimes];
        int seconds = times.Length == 0 ? 0 : (int)((times.Max() - started) / Stopwatch.Frequency) + 1;
        long[] buckets = new long[seconds];
        foreach (long t in times)
        {
            buckets[(int)((t - started) / Stopwatch.Frequency)]++;
        }

        return buckets;
    }
}
