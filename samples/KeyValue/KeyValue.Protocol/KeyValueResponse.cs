using System.Buffers.Binary;

namespace KeyValue.Protocol;

/// <summary>A parsed answer: a view over the frame's payload, no copy.</summary>
public readonly ref struct KeyValueResponse
{
    private KeyValueResponse(KeyValueStatus status, long version, ReadOnlySpan<byte> body)
    {
        Status = status;
        Version = version;
        Body = body;
    }

    /// <summary>The outcome. A value this version does not know arrives as its number: treat it as a failure.</summary>
    public KeyValueStatus Status { get; }

    /// <summary>The version the status refers to (see <see cref="KeyValueStatus"/>); 0 when none.</summary>
    public long Version { get; }

    /// <summary>GET: the value. STATS: the request count (<see cref="KeyValueCodec.TryReadStats"/>). Errors: a UTF-8 reason.</summary>
    public ReadOnlySpan<byte> Body { get; }

    /// <summary>Parses an answer; false when it is shorter than its header or carries a negative version.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out KeyValueResponse response)
    {
        response = default;
        if (payload.Length < KeyValueCodec.ResponseHeaderLength)
        {
            return false;
        }

        long version = BinaryPrimitives.ReadInt64BigEndian(payload[1..]);
        if (version < 0)
        {
            return false;
        }

        response = new KeyValueResponse((KeyValueStatus)payload[0], version, payload[KeyValueCodec.ResponseHeaderLength..]);
        return true;
    }
}
