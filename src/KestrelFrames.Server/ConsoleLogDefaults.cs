using Microsoft.Extensions.Logging.Console;

namespace KestrelFrames.Server;

/// <summary>
/// Console logs carry a timestamp unless the configuration sets its own format: without one, the plain and JSON
/// formatters write none, and a log collected from a file or `kubectl logs` cannot be lined up with anything else.
/// The systemd formatter is left alone: journald stamps each line itself.
/// </summary>
internal static class ConsoleLogDefaults
{
    public static ILoggingBuilder AddTimestamps(this ILoggingBuilder logging)
    {
        // Without a FormatterName the console logger feeds the plain formatter from its obsolete top-level settings
        // (Logging:Console:TimestampFormat) instead of Logging:Console:FormatterOptions, which appsettings.json and
        // the lines below set: naming the formatter it uses anyway makes them apply.
        logging.Services.PostConfigure<ConsoleLoggerOptions>(options => options.FormatterName ??= ConsoleFormatterNames.Simple);

        // PostConfigure: after Logging:Console:FormatterOptions is bound, so an operator's TimestampFormat wins.
        logging.Services.PostConfigure<SimpleConsoleFormatterOptions>(options => options.TimestampFormat ??= Timestamp(options) + " ");
        logging.Services.PostConfigure<JsonConsoleFormatterOptions>(options => options.TimestampFormat ??= Timestamp(options));
        return logging;
    }

    // ISO 8601: "Z" for UTC (appsettings.json's default), else the offset, which the JSON writer escapes ("\u002B").
    private static string Timestamp(ConsoleFormatterOptions options) =>
        options.UseUtcTimestamp ? "yyyy-MM-ddTHH:mm:ss.fffZ" : "yyyy-MM-ddTHH:mm:ss.fffzzz";
}
