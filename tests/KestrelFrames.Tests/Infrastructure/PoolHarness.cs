using System.Collections.Concurrent;
using KestrelFrames.Connections;
using KestrelFrames.Processing;
using Microsoft.Extensions.Logging.Testing;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// What the worker pool's tests share: an unrun connection whose answer slots are fed to the pool directly (no socket,
/// no read loop), a gate that holds handlers until the test opens it, a record of the handler calls in order, and
/// every pool made, stopped with the harness.
/// </summary>
internal sealed class PoolHarness : IDisposable
{
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(10);

    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _startedSignal = new(0);
    private readonly List<WorkerPool> _pools = [];

    public PoolHarness(string connectionId) => Connection = Parts.NewConnection(connectionId);

    public ServerParts Parts { get; } = new();

    public FakeLogger<WorkerPool> Logger { get; } = new();

    public FrameConnection Connection { get; }

    /// <summary>Completes when the test opens the gate.</summary>
    public Task Gate => _gate.Task;

    /// <summary>The requests the handler was called with, in order.</summary>
    public ConcurrentQueue<string> Started { get; } = new();

    public WorkerPool Add(WorkerPool pool)
    {
        _pools.Add(pool);
        return pool;
    }

    public void OpenGate() => _gate.TrySetResult();

    /// <summary>Called by the test's handler as it starts on a request.</summary>
    public void RecordStart(string text)
    {
        Started.Enqueue(text);
        _startedSignal.Release();
    }

    /// <summary>Waits for the next <paramref name="count"/> handler calls.</summary>
    public async Task StartedAsync(int count)
    {
        for (int i = 0; i < count; i++)
        {
            Assert.True(await _startedSignal.WaitAsync(HangGuard), "the handler was not called");
        }
    }

    /// <summary>The slot's outcome once the pool has completed it: null when the handler's answer stands.</summary>
    public static async Task<FrameStatus?> AnsweredAsync(FrameWorkItem slot)
    {
        await slot.WaitAsync().AsTask().WaitAsync(HangGuard);
        return slot.Status;
    }

    public void Dispose()
    {
        OpenGate();
        foreach (WorkerPool pool in _pools)
        {
            pool.Dispose();
        }

        Parts.Dispose();
        _startedSignal.Dispose();
    }
}
