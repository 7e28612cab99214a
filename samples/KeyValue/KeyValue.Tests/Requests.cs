using KeyValue.Protocol;

namespace KeyValue.Tests;

/// <summary>Request payloads, written with the codec the client uses.</summary>
internal static class Requests
{
    public static byte[] Get(string key) => Write(KeyValueOpcode.Get, key, KeyValueCodec.AnyVersion, default);

    public static byte[] Set(string key, ReadOnlySpan<byte> value, long expectedVersion = KeyValueCodec.AnyVersion) =>
        Write(KeyValueOpcode.Set, key, expectedVersion, value);

    public static byte[] Delete(string key, long expectedVersion = KeyValueCodec.AnyVersion) =>
        Write(KeyValueOpcode.Delete, key, expectedVersion, default);

    public static byte[] Stats() => Write(KeyValueOpcode.Stats, "", KeyValueCodec.AnyVersion, default);

    public static byte[] Write(KeyValueOpcode opcode, string key, long expectedVersion, ReadOnlySpan<byte> value)
    {
        var request = new byte[KeyValueCodec.GetRequestLength(opcode, key, value.Length)];
        Assert.Equal(request.Length, KeyValueCodec.WriteRequest(request, opcode, key, expectedVersion, value));
        return request;
    }
}
