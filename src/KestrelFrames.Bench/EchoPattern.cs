using System.Buffers.Binary;

namespace KestrelFrames.Bench;

/// <summary>
/// The payload a connection's requests carry and its answers must echo: a fixed pattern (different for each
/// connection) whose first bytes, up to eight, are a stamp: the request's sequence number xor a salt, little-endian.
/// The salt mixes the connection index with a per-run value, so a reordered, duplicated or cross-connection answer
/// does not verify.
/// </summary>
internal sealed class EchoPattern
{
    private const int StampLength = 8;

    private readonly byte[] _template;
    private readonly ulong _salt;
    private readonly int _stampLength;

    public EchoPattern(int size, int connectionIndex, ulong runSalt)
    {
        Size = size;
        _stampLength = Math.Min(StampLength, size);
        _salt = ((ulong)(connectionIndex + 1) * 0x9E37_79B9_7F4A_7C15UL) ^ runSalt;
        _template = new byte[size];
        for (int i = 0; i < _template.Length; i++)
        {
            _template[i] = (byte)((i * 7) + (connectionIndex * 13) + 0x5a);
        }
    }

    /// <summary>Payload bytes of every request (--size).</summary>
    public int Size { get; }

    /// <summary>Writes the pattern, unstamped, into the first <see cref="Size"/> bytes of <paramref name="payload"/>.</summary>
    public void CopyTemplateTo(Span<byte> payload) => _template.CopyTo(payload);

    /// <summary>Overwrites the start of <paramref name="payload"/> with request <paramref name="sequence"/>'s stamp.</summary>
    /// <remarks>Writes in place, with no stack buffer: the send loop calls this once per request.</remarks>
    public void WriteStamp(Span<byte> payload, long sequence)
    {
        ulong stamp = (ulong)sequence ^ _salt;
        if (_stampLength == StampLength)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(payload, stamp);
            return;
        }

        // A payload shorter than the stamp carries the stamp's first (low) bytes.
        for (int i = 0; i < _stampLength; i++)
        {
            payload[i] = (byte)(stamp >> (8 * i));
        }
    }

    /// <summary>Whether <paramref name="payload"/> is exactly what request <paramref name="sequence"/> carried.</summary>
    public bool Matches(ReadOnlySpan<byte> payload, long sequence)
    {
        if (payload.Length != Size)
        {
            return false;
        }

        Span<byte> stamp = stackalloc byte[StampLength];
        WriteStamp(stamp, sequence);
        return payload[.._stampLength].SequenceEqual(stamp[.._stampLength])
            && payload[_stampLength..].SequenceEqual(_template.AsSpan(_stampLength));
    }

    /// <summary>
    /// The index of the first byte where <paramref name="payload"/> differs from request <paramref name="sequence"/>'s
    /// payload, over the length they share. Allocates: for the report's first mismatch only.
    /// </summary>
    public int FirstDifference(ReadOnlySpan<byte> payload, long sequence)
    {
        byte[] expected = new byte[Size];
        _template.CopyTo(expected, 0);
        WriteStamp(expected, sequence);
        int common = Math.Min(payload.Length, expected.Length);
        return payload[..common].CommonPrefixLength(expected.AsSpan(0, common));
    }
}
