using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace KeyValue.Protocol;

/// <summary>
/// Writes the key-value protocol's requests and answers; <see cref="KeyValueRequest.Parse"/> and
/// <see cref="KeyValueResponse.TryParse"/> read them. The bytes are one KestrelFrames frame's payload: the 4-byte
/// length in front is KestrelFrames' business and counted nowhere here. Integers are big-endian.
/// </summary>
/// <remarks>
/// <code>
/// request  opcode (1) | key length (2) | key (UTF-8) | expected version (8, SET and DELETE) | value (the rest, SET)
///          STATS is the opcode alone
/// answer   status (1) | version (8) | body (the rest): the value (GET), the request count (STATS), a UTF-8 reason (errors)
/// </code>
/// </remarks>
public static class KeyValueCodec
{
    /// <summary>The longest key, in UTF-8 bytes. The wire allows 65,535; the server holds keys as strings and decodes them on the stack.</summary>
    public const int MaxKeyLength = 1024;

    /// <summary>The expected version that means "no condition": the write happens whatever the key's version.</summary>
    public const long AnyVersion = 0;

    /// <summary>Bytes before the key: the opcode and the key length.</summary>
    public const int KeyPrefixLength = 1 + sizeof(ushort);

    /// <summary>Bytes of an answer before its body: the status and the version.</summary>
    public const int ResponseHeaderLength = 1 + sizeof(long);

    // Throws on a lone surrogate instead of writing U+FFFD: a key must not change on its way to the server.
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The length of a request, to size the buffer given to <see cref="WriteRequest"/>.</summary>
    /// <exception cref="ArgumentException">The key is empty, longer than <see cref="MaxKeyLength"/> or not valid UTF-16.</exception>
    public static int GetRequestLength(KeyValueOpcode opcode, ReadOnlySpan<char> key, int valueLength) => opcode switch
    {
        KeyValueOpcode.Get => KeyPrefixLength + KeyByteCount(key),
        KeyValueOpcode.Set => KeyPrefixLength + KeyByteCount(key) + sizeof(long) + valueLength,
        KeyValueOpcode.Delete => KeyPrefixLength + KeyByteCount(key) + sizeof(long),
        KeyValueOpcode.Stats => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(opcode), opcode, "Not an opcode of the protocol."),
    };

    /// <summary>
    /// Writes a request into <paramref name="destination"/> (at least <see cref="GetRequestLength"/> bytes) and
    /// returns its length. <paramref name="key"/> is ignored for STATS, <paramref name="expectedVersion"/> for GET
    /// and STATS, <paramref name="value"/> for all but SET.
    /// </summary>
    /// <exception cref="ArgumentException">A bad key, a negative version, or a destination too short.</exception>
    public static int WriteRequest(Span<byte> destination, KeyValueOpcode opcode, ReadOnlySpan<char> key, long expectedVersion, ReadOnlySpan<byte> value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        int length = GetRequestLength(opcode, key, value.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, length, nameof(destination));
        destination[0] = (byte)opcode;
        if (opcode == KeyValueOpcode.Stats)
        {
            return 1;
        }

        int keyLength = s_strictUtf8.GetBytes(key, destination[KeyPrefixLength..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)keyLength);
        Span<byte> rest = destination[(KeyPrefixLength + keyLength)..length];
        if (opcode is KeyValueOpcode.Set or KeyValueOpcode.Delete)
        {
            BinaryPrimitives.WriteInt64BigEndian(rest, expectedVersion);
            if (opcode == KeyValueOpcode.Set)
            {
                value.CopyTo(rest[sizeof(long)..]);
            }
        }

        return length;
    }

    /// <summary>Writes an answer: its status, its version, then <paramref name="body"/>.</summary>
    public static void WriteResponse(IBufferWriter<byte> output, KeyValueStatus status, long version, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(output);
        int length = ResponseHeaderLength + body.Length;
        Span<byte> span = output.GetSpan(length);
        span[0] = (byte)status;
        BinaryPrimitives.WriteInt64BigEndian(span[1..], version);
        body.CopyTo(span[ResponseHeaderLength..]);
        output.Advance(length);
    }

    /// <summary>Writes an error answer (<see cref="KeyValueStatus.BadRequest"/>, ...): version 0 and the reason in UTF-8.</summary>
    public static void WriteError(IBufferWriter<byte> output, KeyValueStatus status, string reason)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteResponse(output, status, 0, default);
        Encoding.UTF8.GetBytes(reason, output);
    }

    /// <summary>Writes the answer to STATS: the connection's request count, as the body's 8 bytes.</summary>
    public static void WriteStats(IBufferWriter<byte> output, long requests)
    {
        Span<byte> body = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64BigEndian(body, requests);
        WriteResponse(output, KeyValueStatus.Ok, 0, body);
    }

    /// <summary>Reads the request count out of a STATS answer's body; false when the body is not 8 bytes.</summary>
    public static bool TryReadStats(ReadOnlySpan<byte> body, out long requests)
    {
        if (body.Length != sizeof(long))
        {
            requests = 0;
            return false;
        }

        requests = BinaryPrimitives.ReadInt64BigEndian(body);
        return requests >= 0;
    }

    private static int KeyByteCount(ReadOnlySpan<char> key)
    {
        if (key.IsEmpty)
        {
            throw new ArgumentException("A key cannot be empty.", nameof(key));
        }

        int count = s_strictUtf8.GetByteCount(key);
        return count <= MaxKeyLength
            ? count
            : throw new ArgumentException($"The key is {count} bytes in UTF-8; at most {MaxKeyLength} are allowed.", nameof(key));
    }
}
