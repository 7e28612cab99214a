namespace KestrelFrames.Tests.Infrastructure;

/// <summary>Request payloads for tests.</summary>
internal static class TestPayloads
{
    /// <summary><paramref name="size"/> random bytes, the same for the same <paramref name="seed"/>.</summary>
    public static byte[] Random(int size, int seed)
    {
        var payload = new byte[size];
        new Random(seed).NextBytes(payload);
        return payload;
    }
}
