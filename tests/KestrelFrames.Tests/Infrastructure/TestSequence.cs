using System.Buffers;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>Multi-segment sequences over one array, so parsers meet headers and payloads split across segments.</summary>
internal static class TestSequence
{
    /// <summary><paramref name="bytes"/> cut at the given ascending offsets (each inside the array).</summary>
    public static ReadOnlySequence<byte> CutAt(byte[] bytes, IReadOnlyList<int> cuts)
    {
        var lengths = new int[cuts.Count + 1];
        int start = 0;
        for (int i = 0; i < cuts.Count; i++)
        {
            lengths[i] = cuts[i] - start;
            start = cuts[i];
        }

        lengths[^1] = bytes.Length - start;
        return Chunked(bytes, lengths);
    }

    /// <summary><paramref name="bytes"/> cut into segments of the given lengths, used in turn (zero makes an empty segment).</summary>
    public static ReadOnlySequence<byte> Chunked(byte[] bytes, int[] lengths)
    {
        Segment? first = null;
        Segment? last = null;
        for (int offset = 0, i = 0; offset < bytes.Length; i++)
        {
            var memory = bytes.AsMemory(offset, Math.Min(lengths[i % lengths.Length], bytes.Length - offset));
            last = last is null ? new Segment(memory, 0) : last.Append(memory);
            first ??= last;
            offset += memory.Length;
        }

        return first is null || last is null
            ? ReadOnlySequence<byte>.Empty
            : new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
