using System.Diagnostics;

namespace KestrelFrames.Bench;

/// <summary>
/// The open loop's clock: one thread that sleeps until the next request of the schedule is due and wakes the
/// connections whose requests fell due. The woken send loops run on this thread until their writes are handed
/// to the kernel (or go asynchronous), so a due request leaves within about one tick.
/// </summary>
internal sealed class Pacer
{
    /// <summary>The shortest sleep: bounds the pacer's wake-ups to 20,000 a second whatever the rate.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMicroseconds(50);

    // The longest sleep, so that a cancelled run's pacer notices soon even at a low rate.
    private static readonly TimeSpan s_longestSleep = TimeSpan.FromMilliseconds(10);

    private readonly BenchRun _run;
    private readonly OpenLoopSchedule _schedule;
    private readonly BenchConnection[] _connections;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Pacer(BenchRun run, BenchConnection[] connections)
    {
        _run = run;
        _schedule = run.Schedule ?? throw new ArgumentException("The pacer needs an open-loop run.", nameof(run));
        _connections = connections;
        _thread = new Thread(Run) { IsBackground = true, Name = "bench pacer", Priority = ThreadPriority.AboveNormal };
    }

    public void Start() => _thread.Start();

    /// <summary>Completes when the pacer thread has ended (after the window, or once the run is stopping).</summary>
    public Task Stopped => _stopped.Task;

    private void Run()
    {
        try
        {
            Pace();
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void Pace()
    {
        PreciseSleep.TightenTimerSlack();
        long tick = BenchRun.ToTicks(Tick);
        long longest = BenchRun.ToTicks(s_longestSleep);
        int count = _connections.Length;

        // The connections sent what was due at the start themselves.
        long lastWoken = _schedule.LastDueIndex(_run.Start);
        while (!_run.Stopping)
        {
            long now = Stopwatch.GetTimestamp();
            long end = _run.End;
            if (now >= end)
            {
                // Let the send loops see the end and half-close.
                foreach (BenchConnection connection in _connections)
                {
                    connection.Wake();
                }

                return;
            }

            long due = _schedule.LastDueIndex(now);
            if (due - lastWoken >= count)
            {
                foreach (BenchConnection connection in _connections)
                {
                    connection.Wake();
                }
            }
            else
            {
                for (long index = lastWoken + 1; index <= due; index++)
                {
                    _connections[index % count].Wake();
                }
            }

            lastWoken = Math.Max(lastWoken, due);
            now = Stopwatch.GetTimestamp();
            long next = Math.Min(end, Math.Max(_schedule.DueTime(lastWoken + 1), now + tick));
            PreciseSleep.Sleep(Math.Min(next - now, longest));
        }
    }
}
