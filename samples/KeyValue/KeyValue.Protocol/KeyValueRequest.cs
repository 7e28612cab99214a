using System.Buffers.Binary;
using System.Text.Unicode;

namespace KeyValue.Protocol;

/// <summary>
/// A parsed request: a view over the frame's payload, no copy. A ref struct, so it cannot outlive the payload (the
/// server's request buffer is valid only while the handler runs).
/// </summary>
public readonly ref struct KeyValueRequest
{
    private static readonly string s_keyTooLong = $"key longer than {KeyValueCodec.MaxKeyLength} bytes";

    private KeyValueRequest(KeyValueOpcode opcode, ReadOnlySpan<byte> key, long expectedVersion, ReadOnlySpan<byte> value)
    {
        Opcode = opcode;
        Key = key;
        ExpectedVersion = expectedVersion;
        Value = value;
    }

    /// <summary>What the client asks for.</summary>
    public KeyValueOpcode Opcode { get; }

    /// <summary>The key, valid UTF-8, 1 to <see cref="KeyValueCodec.MaxKeyLength"/> bytes; empty for STATS.</summary>
    public ReadOnlySpan<byte> Key { get; }

    /// <summary>SET and DELETE: the version the key must have, or <see cref="KeyValueCodec.AnyVersion"/>. Never negative.</summary>
    public long ExpectedVersion { get; }

    /// <summary>SET: the value, possibly empty.</summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>
    /// Parses a request. A malformed one is the client's mistake, not an exception: the result is then
    /// <see cref="KeyValueStatus.BadRequest"/> or <see cref="KeyValueStatus.UnknownOpcode"/> and
    /// <paramref name="error"/> says what is wrong, for the answer's body.
    /// </summary>
    /// <returns><see cref="KeyValueStatus.Ok"/> and the request, or the error status.</returns>
    public static KeyValueStatus Parse(ReadOnlySpan<byte> payload, out KeyValueRequest request, out string error)
    {
        request = default;
        error = "";
        if (payload.IsEmpty)
        {
            return Fail("empty request", out error);
        }

        var opcode = (KeyValueOpcode)payload[0];
        if (opcode == KeyValueOpcode.Stats)
        {
            if (payload.Length != 1)
            {
                return Fail("STATS takes no operand", out error);
            }

            request = new KeyValueRequest(opcode, default, KeyValueCodec.AnyVersion, default);
            return KeyValueStatus.Ok;
        }

        if (opcode is not (KeyValueOpcode.Get or KeyValueOpcode.Set or KeyValueOpcode.Delete))
        {
            error = "unknown opcode";
            return KeyValueStatus.UnknownOpcode;
        }

        if (payload.Length < KeyValueCodec.KeyPrefixLength)
        {
            return Fail("truncated: no key length", out error);
        }

        int keyLength = BinaryPrimitives.ReadUInt16BigEndian(payload[1..]);
        ReadOnlySpan<byte> rest = payload[KeyValueCodec.KeyPrefixLength..];
        if (keyLength == 0)
        {
            return Fail("empty key", out error);
        }

        if (keyLength > KeyValueCodec.MaxKeyLength)
        {
            return Fail(s_keyTooLong, out error);
        }

        if (rest.Length < keyLength)
        {
            return Fail("truncated: key shorter than its length", out error);
        }

        ReadOnlySpan<byte> key = rest[..keyLength];
        if (!Utf8.IsValid(key))
        {
            return Fail("key is not valid UTF-8", out error);
        }

        rest = rest[keyLength..];
        if (opcode == KeyValueOpcode.Get)
        {
            if (!rest.IsEmpty)
            {
                return Fail("GET takes only a key", out error);
            }

            request = new KeyValueRequest(opcode, key, KeyValueCodec.AnyVersion, default);
            return KeyValueStatus.Ok;
        }

        if (rest.Length < sizeof(long))
        {
            return Fail("truncated: no expected version", out error);
        }

        long expectedVersion = BinaryPrimitives.ReadInt64BigEndian(rest);
        if (expectedVersion < 0)
        {
            return Fail("negative expected version", out error);
        }

        rest = rest[sizeof(long)..];
        if (opcode == KeyValueOpcode.Delete && !rest.IsEmpty)
        {
            return Fail("DELETE takes only a key and a version", out error);
        }

        // SET: whatever follows the version is the value; the frame's length delimits it.
        request = new KeyValueRequest(opcode, key, expectedVersion, rest);
        return KeyValueStatus.Ok;
    }

    private static KeyValueStatus Fail(string reason, out string error)
    {
        error = reason;
        return KeyValueStatus.BadRequest;
    }
}
