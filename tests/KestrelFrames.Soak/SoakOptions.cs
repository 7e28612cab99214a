using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;

namespace KestrelFrames.Soak;

/// <summary>
/// The targets, how long to run, and the servers' settings the clients pace themselves by: they must match the
/// servers' <c>Frames:*</c> values, or a slowloris would not be slow enough, and deadlines would be wrong.
/// </summary>
internal sealed class SoakOptions
{
    public required IReadOnlyList<SoakTarget> Targets { get; init; }

    /// <summary>No attempt starts after this; the ones running finish (each has its own limit).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan LingerTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public int MaxFrameSize { get; init; } = 1 << 20;

    /// <summary>Workers per hostile kind and target.</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>Workers of the good churn kind per target.</summary>
    public int ChurnConcurrency { get; init; } = 2;

    /// <summary>Between two attempts of a worker: keeps the fast kinds from taking the cores the load needs.</summary>
    public TimeSpan Pause { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The TLS servers' certificate (PEM); the clients accept exactly this one.</summary>
    public X509Certificate2? PinnedCertificate { get; init; }

    /// <summary>The server's timeouts are checked on a 1 s heartbeat, so they fire up to a second late.</summary>
    public static TimeSpan TimeoutTick => TimeSpan.FromSeconds(1);

    /// <summary>
    /// Slack on every deadline that waits for the server: the machine is shared and the load saturates it, so a
    /// status may come seconds late without anything being wrong; it may not fail to come.
    /// </summary>
    public static TimeSpan Slack => TimeSpan.FromSeconds(10);

    /// <summary>The hard limit of one attempt, above every deadline a kind keeps itself.</summary>
    public TimeSpan AttemptLimit => (4 * ReadTimeout) + WriteTimeout + LingerTimeout + TimeoutTick + (3 * Slack);

    public static SoakOptions FromArguments(IConfiguration arguments)
    {
        var targets = new List<SoakTarget>();
        if (arguments["plain"] is { } plain)
        {
            targets.Add(SoakTarget.Parse("plain", plain, tls: false));
        }

        X509Certificate2? pinned = null;
        if (arguments["tls"] is { } tls)
        {
            targets.Add(SoakTarget.Parse("tls", tls, tls: true));
            string certificate = arguments["tls-cert"] ?? throw new ArgumentException("--tls needs --tls-cert (the server's certificate, PEM)");
            pinned = X509Certificate2.CreateFromPem(File.ReadAllText(certificate));
        }

        if (targets.Count == 0)
        {
            throw new ArgumentException("give --plain host:port, --tls host:port, or both");
        }

        return new SoakOptions
        {
            Targets = targets,
            PinnedCertificate = pinned,
            Duration = Span(arguments, "duration", TimeSpan.FromSeconds(60)),
            ReadTimeout = Span(arguments, "read-timeout", TimeSpan.FromSeconds(2)),
            WriteTimeout = Span(arguments, "write-timeout", TimeSpan.FromSeconds(2)),
            LingerTimeout = Span(arguments, "linger-timeout", TimeSpan.FromSeconds(2)),
            Pause = Span(arguments, "pause", TimeSpan.FromMilliseconds(20)),
            MaxFrameSize = Number(arguments, "max-frame-size", 1 << 20),
            Concurrency = Number(arguments, "concurrency", 1),
            ChurnConcurrency = Number(arguments, "churn-concurrency", 2),
        };
    }

    private static TimeSpan Span(IConfiguration arguments, string key, TimeSpan fallback) =>
        arguments[key] is { } text ? TimeSpan.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static int Number(IConfiguration arguments, string key, int fallback) =>
        arguments[key] is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
}
