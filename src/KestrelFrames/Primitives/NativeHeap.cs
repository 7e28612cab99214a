using System.Runtime.InteropServices;

namespace KestrelFrames.Primitives;

/// <summary>
/// Hands glibc's free native memory back to the kernel. glibc keeps what is freed inside an arena unless it sits at
/// the arena's top, so native memory used in passing (the JIT's, the runtime's, TLS's) stays in RSS for good: in the
/// 10-minute soak 6 MB of the plain server's growth, which one <c>malloc_trim(0)</c> gave back.
/// </summary>
internal static partial class NativeHeap
{
    private static bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>Releases free pages of every arena; does nothing where there is no glibc (musl, other systems).</summary>
    public static void Trim()
    {
        if (_unavailable)
        {
            return;
        }

        try
        {
            // 1 when it released memory, 0 when there was none to release: nothing to act on either way.
            _ = MallocTrim(0);
        }
        catch (EntryPointNotFoundException)
        {
            _unavailable = true;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
