namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// The transport this run of the suite is on: scripts/test.sh runs it once with the default (epoll on Linux) and
/// once with <c>Frames__Transport=Sockets</c> in the environment, which every server the tests start reads.
/// </summary>
public static class TestTransport
{
    /// <summary><c>epoll</c> or <c>sockets</c>, as <c>frames_transport_info</c> labels them.</summary>
    public static string Name { get; } = Environment.GetEnvironmentVariable("Frames__Transport") is { Length: > 0 } configured
        ? configured.ToLowerInvariant() switch
        {
            "auto" => Default,
            var name => name,
        }
        : Default;

    public static bool IsEpoll => Name == "epoll";

    private static string Default => OperatingSystem.IsLinux() ? "epoll" : "sockets";
}
