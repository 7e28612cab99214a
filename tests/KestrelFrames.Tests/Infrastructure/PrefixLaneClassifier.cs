using System.Buffers;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>Puts a request whose payload starts with "high" in lane "high" and with "low" in lane "low"; the rest in the default lane.</summary>
public sealed class PrefixLaneClassifier : IFrameLaneClassifier
{
    public string? Classify(in ReadOnlySequence<byte> payload)
    {
        Span<byte> head = stackalloc byte[4];
        int length = (int)Math.Min(payload.Length, head.Length);
        payload.Slice(0, length).CopyTo(head);
        head = head[..length];
        if (head.StartsWith("high"u8))
        {
            return "high";
        }

        return head.StartsWith("low"u8) ? "low" : null;
    }
}
