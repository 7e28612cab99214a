using System.Buffers;

namespace KestrelFrames;

/// <summary>
/// Picks the priority lane of each request (the lanes are configured under <c>Frames:Lanes</c>). Register one in DI
/// before <c>AddFrameServer</c>; without one, every request runs in the default lane and <c>Frames:Lanes</c> is
/// ignored.
/// </summary>
/// <remarks>
/// Called on the connection's read loop for every request, before the request is copied or queued, so that a full
/// lane cannot hold up the others: it must be fast, must not block and should not allocate. Return a string
/// constant (a literal), which the server recognises by reference. Many connections call it at once.
/// </remarks>
public interface IFrameLaneClassifier
{
    /// <summary>
    /// Returns the name of a lane under <c>Frames:Lanes</c> (case-insensitive), or null for the default lane. A name
    /// that is not configured runs in the default lane and is logged (throttled); so does a classifier that throws.
    /// </summary>
    /// <param name="payload">The request's payload, valid only during the call.</param>
    string? Classify(in ReadOnlySequence<byte> payload);
}
