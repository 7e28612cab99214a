using System.Buffers.Binary;

namespace KestrelFrames.Soak;

/// <summary>Builds client frames: a 4-byte big-endian length, then the payload.</summary>
internal static class FrameWire
{
    public const int HeaderLength = 4;
    public const uint StatusBit = 0x8000_0000;

    /// <summary>A header alone, with any value: hostile clients announce lengths they never send.</summary>
    public static byte[] Header(uint value)
    {
        byte[] header = new byte[HeaderLength];
        BinaryPrimitives.WriteUInt32BigEndian(header, value);
        return header;
    }

    /// <summary>The frames of <paramref name="payloads"/> back to back, as one pipelined write.</summary>
    public static byte[] Frames(IReadOnlyList<byte[]> payloads)
    {
        byte[] bytes = new byte[payloads.Sum(p => HeaderLength + p.Length)];
        int at = 0;
        foreach (byte[] payload in payloads)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(at), (uint)payload.Length);
            payload.CopyTo(bytes.AsSpan(at + HeaderLength));
            at += HeaderLength + payload.Length;
        }

        return bytes;
    }

    /// <summary>Random payloads of 1 to <paramref name="maxSize"/> bytes; with <paramref name="heartbeats"/>, about one in four is empty.</summary>
    public static List<byte[]> RandomPayloads(Random random, int count, int maxSize, bool heartbeats)
    {
        var payloads = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
        {
            if (heartbeats && random.Next(4) == 0)
            {
                payloads.Add([]);
                continue;
            }

            byte[] payload = new byte[random.Next(1, maxSize + 1)];
            random.NextBytes(payload);
            payloads.Add(payload);
        }

        return payloads;
    }
}
