using System.Globalization;

namespace KestrelFrames.Bench;

/// <summary>Durations as Go and most load generators write them: <c>10s</c>, <c>500ms</c>, <c>1.5m</c>, <c>250us</c>.</summary>
internal static class DurationParser
{
    private static readonly (string Suffix, double Seconds)[] s_units =
    [
        ("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1), ("m", 60), ("h", 3600),
    ];

    /// <summary>Parses a number with a unit (a bare number is seconds), or a .NET time span such as <c>00:00:10</c>.</summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration);
        }

        double scale = 1;
        foreach (var (suffix, seconds) in s_units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal))
            {
                text = text[..^suffix.Length];
                scale = seconds;
                break;
            }
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            || !double.IsFinite(value)
            || Math.Abs(value * scale) > TimeSpan.MaxValue.TotalSeconds)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(value * scale);
        return true;
    }
}
