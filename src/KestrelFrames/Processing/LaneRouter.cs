using System.Buffers;
using KestrelFrames.Primitives;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Processing;

/// <summary>
/// Turns the <see cref="IFrameLaneClassifier"/>'s lane name into a lane index on the read loop. The lanes are few,
/// so a linear scan beats hashing, and a classifier that returns the literals it was written with matches by
/// reference before any string comparison.
/// </summary>
internal sealed partial class LaneRouter : IDisposable
{
    private readonly IFrameLaneClassifier _classifier;
    private readonly string[] _names;
    private readonly ILogger _logger;
    private readonly LogThrottle _throttle;

    // names: the lanes' names by index; index 0 is the default lane.
    public LaneRouter(IFrameLaneClassifier classifier, string[] names, ILogger logger, TimeProvider time)
    {
        _classifier = classifier;
        _names = names;
        _logger = logger;
        _throttle = new LogThrottle("lane classifier", LogLevel.Warning, logger, time);
    }

    /// <summary>The request's lane; the default lane (0) when the classifier names none, an unknown one, or throws.</summary>
    public int Route(in ReadOnlySequence<byte> payload)
    {
        string? name;
        try
        {
            name = _classifier.Classify(payload);
        }
#pragma warning disable CA1031 // A faulty classifier must not end the connection: the request still runs.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (_throttle.TryEnter())
            {
                LogClassifierFailed(_logger, ex);
            }

            return 0;
        }

        if (name is null)
        {
            return 0;
        }

        for (int i = 0; i < _names.Length; i++)
        {
            if (ReferenceEquals(name, _names[i]))
            {
                return i;
            }
        }

        for (int i = 0; i < _names.Length; i++)
        {
            if (string.Equals(name, _names[i], StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        if (_throttle.TryEnter())
        {
            LogUnknownLane(_logger, name);
        }

        return 0;
    }

    public void Dispose() => _throttle.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The lane classifier returned lane '{Lane}', which is not configured under Frames:Lanes; the request runs in the default lane.")]
    private static partial void LogUnknownLane(ILogger logger, string lane);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The lane classifier failed; the request runs in the default lane.")]
    private static partial void LogClassifierFailed(ILogger logger, Exception exception);
}
