namespace KestrelFrames.Transport;

/// <summary>
/// Connection ids in the form Kestrel's transports use (13 characters of base32 from a counter seeded by the
/// clock), so logs read the same whichever transport runs.
/// </summary>
internal static class ConnectionIds
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
    private static long _lastId = DateTime.UtcNow.Ticks;

    public static string Next() => string.Create(13, Interlocked.Increment(ref _lastId), static (chars, id) =>
    {
        for (int i = chars.Length - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(id & 31)];
            id >>= 5;
        }
    });
}
