namespace KestrelFrames.Transport;

/// <summary>
/// Connection ids in the form Kestrel's transports use (13 characters of base32 from a counter seeded by the
/// clock), so logs read the same whichever transport runs. Kestrel's own counter, which numbers the HTTP
/// endpoint's connections, is seeded by the clock too, a moment apart: two counters a few thousand ticks apart
/// would hand out the same id once one had numbered that many connections. Bit 62 set in this seed keeps the two
/// apart for good: clock ticks stay below 2^60 until the year 3600, so Kestrel's ids start with '0' and these with '4'.
/// </summary>
internal static class ConnectionIds
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
    private static long _lastId = DateTime.UtcNow.Ticks | (1L << 62);

    public static string Next() => string.Create(13, Interlocked.Increment(ref _lastId), static (chars, id) =>
    {
        for (int i = chars.Length - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(id & 31)];
            id >>= 5;
        }
    });
}
