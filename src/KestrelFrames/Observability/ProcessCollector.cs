using System.Diagnostics;
using System.Runtime.InteropServices;
using Prometheus;

namespace KestrelFrames.Observability;

/// <summary>
/// The process_* series of the Prometheus client guidelines, cheap enough to scrape at 10,000 connections. Our own
/// because prometheus-net's lists /proc/self/fd on every scrape (about 80 ms at 10,000 connections): here the open
/// descriptors are one statx of that directory, whose size Linux 6.2+ reports as the count; older kernels fall back
/// to listing it, at most every 10 s. Everything else is a read of /proc/self/statm or a runtime property.
/// </summary>
internal static partial class ProcessCollector
{
    private static readonly TimeSpan s_listingInterval = TimeSpan.FromSeconds(10);
    private static long _lastListing;
    private static long _listedCount;

    public static void Register(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        Gauge startTime = factory.CreateGauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.");
        Counter cpu = factory.CreateCounter("process_cpu_seconds_total", "User and system CPU time spent, in seconds.");
        Gauge resident = factory.CreateGauge("process_resident_memory_bytes", "Resident memory size, in bytes.");
        Gauge virtualMemory = factory.CreateGauge("process_virtual_memory_bytes", "Virtual memory size, in bytes.");
        Gauge openFds = factory.CreateGauge("process_open_fds", "Open file descriptors.");
        Gauge maxFds = factory.CreateGauge("process_max_fds", "The limit on open file descriptors (RLIMIT_NOFILE, soft).");
        // The runtime meter's thread count is named *.count, which the adapter would export as a gauge named
        // *_count (a name Prometheus reserves for histograms): exported here under a name promtool accepts.
        Gauge threadPoolThreads = factory.CreateGauge("system_runtime_dotnet_thread_pool_threads", "Thread pool threads that exist now.");

        using (var process = Process.GetCurrentProcess())
        {
            startTime.Set(new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0);
        }

        bool linux = OperatingSystem.IsLinux();
        registry.AddBeforeCollectCallback(() =>
        {
            cpu.IncTo(Environment.CpuUsage.TotalTime.TotalSeconds);
            threadPoolThreads.Set(ThreadPool.ThreadCount);
            if (linux)
            {
                (long vm, long rss) = ReadStatm();
                virtualMemory.Set(vm);
                resident.Set(rss);
                openFds.Set(CountOpenFds());
                maxFds.Set(ReadMaxFds());
            }
            else
            {
                using var process = Process.GetCurrentProcess();
                virtualMemory.Set(process.VirtualMemorySize64);
                resident.Set(process.WorkingSet64);
                openFds.Set(process.HandleCount);
            }
        });
    }

    /// <summary>Virtual and resident size, in bytes, from the first two fields of /proc/self/statm (in pages).</summary>
    private static (long Virtual, long Resident) ReadStatm()
    {
        string[] fields = File.ReadAllText("/proc/self/statm").Split(' ', 3);
        long page = Environment.SystemPageSize;
        return (long.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture) * page,
                long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) * page);
    }

    private static long CountOpenFds()
    {
        long size = FdDirectorySize();
        if (size > 0)
        {
            return size;
        }

        long now = Stopwatch.GetTimestamp();
        if (_listedCount == 0 || Stopwatch.GetElapsedTime(_lastListing, now) >= s_listingInterval)
        {
            _listedCount = Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount();
            _lastListing = now;
        }

        return _listedCount;
    }

    private static unsafe long FdDirectorySize()
    {
        // struct statx has the same layout on every architecture; stx_size is at offset 40 of its 256 bytes.
        const int AtFdCwd = -100;
        const uint StatxSize = 0x200;
        byte* buffer = stackalloc byte[256];
        return Statx(AtFdCwd, "/proc/self/fd", 0, StatxSize, buffer) == 0 ? *(long*)(buffer + 40) : 0;
    }

    private static long ReadMaxFds()
    {
        foreach (string line in File.ReadLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                string soft = line["Max open files".Length..].TrimStart().Split(' ', 2)[0];
                return long.TryParse(soft, System.Globalization.CultureInfo.InvariantCulture, out long value) ? value : -1;
            }
        }

        return -1;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
