using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace KestrelFrames.Processing;

/// <summary>
/// The <see cref="FrameServerOptions"/> the server runs with now: the validated start values, then each configuration
/// reload that validates. Components read <see cref="Current"/> where new work starts (a connection, a read, a
/// reservation): one volatile read, no lock, no allocation. A snapshot is never changed once published.
/// </summary>
/// <remarks>
/// Not <see cref="IOptionsMonitor{TOptions}"/>: on a reload it builds the options inside the configuration's change
/// callback and throws <see cref="OptionsValidationException"/> there for a bad value, before any listener runs, so
/// the edit could be neither refused with a log line nor survived. This watches the configuration's reload token
/// itself and builds through a function the host gives it (Hosting/FrameOptionsReload: the same options factory,
/// strict binding and validators as at start), which reports failures instead of throwing them.
/// </remarks>
internal sealed partial class LiveFrameOptions : IDisposable
{
    private readonly Lock _reloadLock = new();
    private readonly Func<List<string>, FrameServerOptions?>? _build;
    private readonly ILogger _logger;
    private readonly IDisposable? _watch;
    private volatile FrameServerOptions _current;
    private Action<FrameServerOptions>[] _listeners = [];

    // What was last logged as refused or waiting for a restart: a file watcher often reports one save twice.
    private string? _lastRefused;
    private string? _lastRestartOnly;

    /// <summary>Fixed options, never reloaded: for tests that build one component.</summary>
    public LiveFrameOptions(FrameServerOptions options)
    {
        _current = options;
        _logger = NullLogger.Instance;
    }

    /// <param name="initial">The options validated at start.</param>
    /// <param name="changed">The configuration's reload token.</param>
    /// <param name="build">Builds and validates the options from the configuration as it is now; null with the failures added, each naming its key.</param>
    /// <param name="logger">Where the changes, refusals and restart-only keys are logged.</param>
    public LiveFrameOptions(FrameServerOptions initial, Func<IChangeToken> changed, Func<List<string>, FrameServerOptions?> build, ILogger<LiveFrameOptions> logger)
    {
        _current = initial;
        _build = build;
        _logger = logger;
        _watch = ChangeToken.OnChange(changed, Reload);
    }

    public FrameServerOptions Current => _current;

    /// <summary>
    /// Calls <paramref name="listener"/> with the current options now and with each new snapshot after it is
    /// published, one call at a time: for components that derive state from the options (the budget's limit, the
    /// rate limiter's buckets) rather than read them per use.
    /// </summary>
    public void Subscribe(Action<FrameServerOptions> listener)
    {
        lock (_reloadLock)
        {
            listener(_current);
            _listeners = [.. _listeners, listener];
        }
    }

    public void Dispose() => _watch?.Dispose();

    /// <summary>Runs on the configuration's reload thread, so it logs what goes wrong and never throws.</summary>
    private void Reload()
    {
        lock (_reloadLock)
        {
            var failures = new List<string>();
            FrameServerOptions? next = _build!(failures);
            if (next is null)
            {
                string refused = string.Join(" ", failures);
                if (refused != _lastRefused)
                {
                    _lastRefused = refused;
                    LogRefused(_logger, refused);
                }

                return;
            }

            _lastRefused = null;
            Publish(next);
        }
    }

    private void Publish(FrameServerOptions next)
    {
        FrameServerOptions running = _current;
        var applied = new List<string>();
        var restartOnly = new List<string>();
        foreach (FrameOptionKey key in FrameOptionKey.All)
        {
            string before = key.Read(running);
            string after = key.Read(next);
            if (before == after)
            {
                continue;
            }

            string change = $"{FrameServerOptions.SectionName}:{key.Name} {before} -> {after}";
            if (key.IsLive)
            {
                applied.Add(change);
            }
            else
            {
                restartOnly.Add(change);
                key.KeepRunning(next, running);
            }
        }

        // Said again only when it says something new: a later edit of a live key does not repeat it.
        string? waiting = restartOnly.Count == 0 ? null : string.Join(", ", restartOnly);
        if (waiting is not null && waiting != _lastRestartOnly)
        {
            LogRestartOnly(_logger, waiting);
        }

        _lastRestartOnly = waiting;
        if (applied.Count == 0)
        {
            return;
        }

        _current = next;
        string changes = string.Join(", ", applied);
        LogApplied(_logger, changes);
        foreach (Action<FrameServerOptions> listener in _listeners)
        {
            listener(next);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Frames configuration changed; new work uses {Changes}.")]
    private static partial void LogApplied(ILogger logger, string changes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frames configuration change refused; the running values stay: {Failures}")]
    private static partial void LogRefused(ILogger logger, string failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frames configuration change needs a restart; the running values stay until then: {Changes}.")]
    private static partial void LogRestartOnly(ILogger logger, string changes);
}
