using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>A logger provider that lets a test await a log line of the server's, as Kestrel's own tests do.</summary>
public sealed class LogWaiter : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _waits = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public Action<IServiceCollection> Register => services =>
    {
        services.AddSingleton<ILoggerProvider>(this);
        services.Configure<LoggerFilterOptions>(o => o.AddFilter<LogWaiter>("KestrelFrames", LogLevel.Debug));
    };

    /// <summary>Completes with the first line (past or future) that contains <paramref name="fragment"/>.</summary>
    public Task<string> WaitForAsync(string fragment)
    {
        var wait = _waits.GetOrAdd(fragment, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        foreach (string line in _lines)
        {
            if (line.Contains(fragment, StringComparison.Ordinal))
            {
                wait.TrySetResult(line);
            }
        }

        return wait.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        _lines.Enqueue(line);
        foreach (var (fragment, wait) in _waits)
        {
            if (line.Contains(fragment, StringComparison.Ordinal))
            {
                wait.TrySetResult(line);
            }
        }
    }

    private sealed class Logger(LogWaiter owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
