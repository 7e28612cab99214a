using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Server;

/// <summary>
/// Caps glibc's malloc arenas at two. By default glibc gives threads up to 8 per core, and an arena never hands back
/// the memory below its last live chunk: under connection churn the thread pool's threads pinned one arena after
/// another, and the soak's RSS rose 10 % in 10 minutes with the GC heap flat (docs/operations.md, "Soak test").
/// glibc reads MALLOC_ARENA_MAX before Main runs, so the server sets the cap itself; an operator's own value wins.
/// </summary>
internal static partial class MallocArenas
{
    // M_ARENA_MAX in malloc.h.
    private const int ArenaMaxParameter = -8;
    internal const int Limit = 2;

    /// <summary>Applies the cap unless MALLOC_ARENA_MAX is set; true when it was applied.</summary>
    public static bool Apply()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null)
        {
            return false;
        }

        try
        {
            // mallopt returns 1 on success; musl accepts the call and ignores it.
            return Mallopt(ArenaMaxParameter, Limit) == 1;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>One start-up line saying which cap is in force, so an operator reading the log knows the knob.</summary>
    public static void Report(ILogger logger, bool applied)
    {
        if (applied)
        {
            LogCapped(logger, Limit);
        }
        else if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is { } value)
        {
            LogFromEnvironment(logger, value);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "glibc malloc arenas capped at {Limit}; set MALLOC_ARENA_MAX to choose another cap.")]
    private static partial void LogCapped(ILogger logger, int limit);

    [LoggerMessage(Level = LogLevel.Information, Message = "glibc malloc arenas: MALLOC_ARENA_MAX={Value} from the environment.")]
    private static partial void LogFromEnvironment(ILogger logger, string value);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);
}
