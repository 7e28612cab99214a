using System.Buffers;

namespace KestrelFrames.LaneBench;

/// <summary>Small payloads go to lane "high": the bench tool can only vary the size, not the bytes, of what it sends.</summary>
internal sealed class SizeLaneClassifier(int highMaxSize) : IFrameLaneClassifier
{
    public string? Classify(in ReadOnlySequence<byte> payload) => payload.Length <= highMaxSize ? "high" : null;
}
