namespace KestrelFrames.Bench;

/// <summary>Error counts of a run, by status code (from the server) or by <see cref="TransportError"/>, thread-safe.</summary>
internal sealed class BenchErrors
{
    private const int StatusSlots = 256;
    private static readonly TransportError[] s_transportErrors = Enum.GetValues<TransportError>();

    private readonly long[] _counts = new long[StatusSlots + s_transportErrors.Length];
    private string? _first;

    /// <summary>The first error's description, for the report.</summary>
    public string? First => Volatile.Read(ref _first);

    public long Total
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _counts.Length; i++)
            {
                total += Volatile.Read(ref _counts[i]);
            }

            return total;
        }
    }

    /// <summary>Whether the run has no first error yet: describe this one with <see cref="NoteFirst"/>.</summary>
    public bool WantsFirst => Volatile.Read(ref _first) is null;

    public void CountStatus(byte code) => Interlocked.Increment(ref _counts[code]);

    public void Count(TransportError error) => Interlocked.Increment(ref _counts[StatusSlots + (int)error]);

    /// <summary>The name of a status code, or its hex value when this version does not know it.</summary>
    public static string StatusName(byte code) => Enum.IsDefined((FrameStatus)code)
        ? ((FrameStatus)code).ToString()
        : "Status0x" + code.ToString("X2", System.Globalization.CultureInfo.InvariantCulture);

    public void NoteFirst(string description) => Interlocked.CompareExchange(ref _first, description, null);

    /// <summary>Non-zero counts by name: status code names first (in code order), then transport errors.</summary>
    public SortedDictionary<string, long> ByName()
    {
        var byName = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int code = 0; code < StatusSlots; code++)
        {
            long count = Volatile.Read(ref _counts[code]);
            if (count > 0)
            {
                byName[StatusName((byte)code)] = count;
            }
        }

        foreach (TransportError error in s_transportErrors)
        {
            long count = Volatile.Read(ref _counts[StatusSlots + (int)error]);
            if (count > 0)
            {
                byName[error.ToString()] = count;
            }
        }

        return byName;
    }
}
