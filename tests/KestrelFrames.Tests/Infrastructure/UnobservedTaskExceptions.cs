namespace KestrelFrames.Tests.Infrastructure;

/// <summary>Records <see cref="TaskScheduler.UnobservedTaskException"/> from creation to disposal.</summary>
internal sealed class UnobservedTaskExceptions : IDisposable
{
    private readonly List<Exception> _seen = [];

    public UnobservedTaskExceptions()
    {
        // Faulted tasks left over from earlier tests are finalized now, before listening.
        CollectAll();
        TaskScheduler.UnobservedTaskException += OnUnobserved;
    }

    /// <summary>Finalizes every unreachable task, which is when an unobserved exception is reported.</summary>
    public void AssertNone()
    {
        CollectAll();
        lock (_seen)
        {
            Assert.True(_seen.Count == 0, "Unobserved task exceptions:\n" + string.Join("\n", _seen));
        }
    }

    public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;

    private static void CollectAll()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        lock (_seen)
        {
            _seen.Add(e.Exception);
        }
    }
}
