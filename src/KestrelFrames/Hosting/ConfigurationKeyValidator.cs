using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace KestrelFrames.Hosting;

/// <summary>
/// Checks a section's keys against the options type they bind to, before the binder sees them. A key the type does
/// not have binds to nothing: <c>Frames__MaxConection=20000</c> would leave the default limit in force without a word.
/// A timeout written as a bare number binds, as days: <c>Frames:IdleTimeout=30</c> is 30 days. Zero is allowed: it
/// reads the same in any unit. (The binder's own ErrorOnUnknownConfiguration names the type, not the key.)
/// </summary>
internal static class ConfigurationKeyValidator
{
    public static void Validate(IConfiguration configuration, List<string> failures)
    {
        ValidateFrames(configuration, failures);
        Check(configuration.GetSection(HostOptionsValidator.SectionName), typeof(HostOptions), failures);
    }

    /// <summary>The <c>Frames</c> section alone: what a configuration reload can change (<see cref="Processing.LiveFrameOptions"/>).</summary>
    public static void ValidateFrames(IConfiguration configuration, List<string> failures) =>
        Check(configuration.GetSection(FrameServerOptions.SectionName), typeof(FrameServerOptions), failures);

    private static void Check(IConfigurationSection section, Type type, List<string> failures)
    {
        PropertyInfo[] properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
        foreach (IConfigurationSection child in section.GetChildren())
        {
            PropertyInfo? property = Array.Find(properties, p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                failures.Add(Unknown(section, child.Key, properties));
            }
            else if (property.PropertyType == typeof(TimeSpan))
            {
                CheckTimeSpan(child, failures);
            }
            else if (IsOptions(property.PropertyType))
            {
                Check(child, property.PropertyType, failures);
            }
            else if (OptionsValues(property.PropertyType) is Type value)
            {
                // Frames:Lanes:{name}: the names are the user's, the keys under each are a lane's options.
                foreach (IConfigurationSection entry in child.GetChildren())
                {
                    Check(entry, value, failures);
                }
            }
        }
    }

    private static void CheckTimeSpan(IConfigurationSection key, List<string> failures)
    {
        string? value = key.Value;
        if (long.TryParse(value, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number) && number != 0)
        {
            failures.Add($"{key.Path} is a bare number ({value.Trim()}), which .NET reads as days; write it as hh:mm:ss (00:00:30 is 30 seconds).");
        }
    }

    private static string Unknown(IConfigurationSection section, string key, PropertyInfo[] properties)
    {
        string nearest = properties.Select(p => p.Name).MinBy(name => EditDistance(key, name)) ?? "";
        string hint = EditDistance(key, nearest) <= Math.Max(2, key.Length / 4) ? $"; did you mean {section.Path}:{nearest}?" : "";
        return $"{section.Path}:{key} is not a setting{hint}";
    }

    private static bool IsOptions(Type type) => type.IsClass && type.Namespace == typeof(FrameServerOptions).Namespace;

    private static Type? OptionsValues(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>) && IsOptions(type.GetGenericArguments()[1])
            ? type.GetGenericArguments()[1]
            : null;

    // Levenshtein over the letters, case ignored: a suggestion, computed only for a key that is already wrong.
    private static int EditDistance(string a, string b)
    {
        int[] previous = [.. Enumerable.Range(0, b.Length + 1)];
        int[] current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = char.ToUpperInvariant(a[i - 1]) == char.ToUpperInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + substitution);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
