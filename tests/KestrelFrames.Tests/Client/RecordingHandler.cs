using System.Collections.Concurrent;
using System.Text;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Client;

/// <summary>
/// An echo handler that counts its runs per request (by UTF-8 text), lets a test await a request reaching it, and
/// holds the requests it is told to at a gate until the test opens it.
/// </summary>
public sealed class RecordingHandler(Func<string, bool>? gated = null)
{
    private readonly Func<string, bool> _gated = gated ?? (_ => false);
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, int> _runs = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _entered = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _counts = new();
    private int _total;

    public Action<IServiceCollection> Services => DelegateFrameHandler.Use(HandleAsync);

    /// <summary>How many times the request <paramref name="tag"/> ran on this server.</summary>
    public int Runs(string tag) => _runs.GetValueOrDefault(tag);

    public int TotalRuns => Volatile.Read(ref _total);

    /// <summary>Completes when <paramref name="tag"/> has reached the handler.</summary>
    public Task Entered(string tag)
    {
        TaskCompletionSource entered = _entered.GetOrAdd(tag, _ => NewSignal());
        if (Runs(tag) > 0)
        {
            entered.TrySetResult();
        }

        return entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Completes when <paramref name="count"/> requests in all have reached the handler.</summary>
    public Task EnteredCount(int count)
    {
        TaskCompletionSource reached = _counts.GetOrAdd(count, _ => NewSignal());
        if (TotalRuns >= count)
        {
            reached.TrySetResult();
        }

        return reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public void Open() => _gate.TrySetResult();

    public async ValueTask HandleAsync(FrameContext frame, CancellationToken cancellationToken)
    {
        string tag = Encoding.UTF8.GetString(frame.Request.Span);
        _runs.AddOrUpdate(tag, 1, (_, n) => n + 1);
        _entered.GetOrAdd(tag, _ => NewSignal()).TrySetResult();
        int total = Interlocked.Increment(ref _total);
        foreach (var (count, reached) in _counts)
        {
            if (total >= count)
            {
                reached.TrySetResult();
            }
        }

        if (_gated(tag))
        {
            await _gate.Task;
        }

        await DelegateFrameHandler.Echo(frame);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
