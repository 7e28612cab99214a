using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KestrelFrames.Bench;

/// <summary>
/// Sub-millisecond sleeps for the open-loop pacer. .NET's sleeps and timers have millisecond granularity, which
/// would add up to a millisecond of client-side delay to every open-loop latency; on 64-bit Linux this calls
/// <c>nanosleep</c> with the thread's timer slack lowered to 1 µs, elsewhere it falls back to <see cref="Thread.Sleep(int)"/>.
/// </summary>
internal static partial class PreciseSleep
{
    private const int PrSetTimerSlack = 29;

    private static readonly bool s_native = OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    /// <summary>Lowers the calling thread's timer slack (Linux), so short sleeps end close to when asked.</summary>
    public static void TightenTimerSlack()
    {
        if (s_native)
        {
            try
            {
                _ = Prctl(PrSetTimerSlack, 1000, 0, 0, 0);
            }
            catch (DllNotFoundException)
            {
            }
            catch (EntryPointNotFoundException)
            {
            }
        }
    }

    /// <summary>Sleeps about <paramref name="ticks"/> <see cref="Stopwatch"/> ticks.</summary>
    public static void Sleep(long ticks)
    {
        if (ticks <= 0)
        {
            return;
        }

        long nanoseconds = (long)(ticks * (1e9 / Stopwatch.Frequency));
        if (s_native)
        {
            var request = new Timespec { Seconds = (nint)(nanoseconds / 1_000_000_000), Nanoseconds = (nint)(nanoseconds % 1_000_000_000) };
            _ = NanoSleep(ref request, IntPtr.Zero);
            return;
        }

        Thread.Sleep(Math.Max(1, (int)(nanoseconds / 1_000_000)));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public nint Seconds;
        public nint Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "nanosleep")]
    private static partial int NanoSleep(ref Timespec request, IntPtr remaining);

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
