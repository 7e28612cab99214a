using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace KestrelFrames.Hosting;

/// <summary>
/// Refuses a timeout written as a bare number: .NET reads <c>Frames:IdleTimeout=30</c> as 30 days, which binds and
/// validates fine and is almost never what was meant. Zero is allowed: it reads the same in any unit.
/// </summary>
internal static class BareTimeSpanValidator
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
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.PropertyType == typeof(TimeSpan))
            {
                string? value = section[property.Name];
                if (long.TryParse(value, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number) && number != 0)
                {
                    failures.Add($"{section.Path}:{property.Name} is a bare number ({value.Trim()}), which .NET reads as days; write it as hh:mm:ss (00:00:30 is 30 seconds).");
                }
            }
            else if (property.PropertyType.Namespace == typeof(FrameServerOptions).Namespace && property.PropertyType.IsClass)
            {
                // Nested Frames options (ProxyProtocol) have timeouts of their own.
                Check(section.GetSection(property.Name), property.PropertyType, failures);
            }
        }
    }
}
