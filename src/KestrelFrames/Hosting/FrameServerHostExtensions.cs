using KestrelFrames.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace KestrelFrames;

/// <summary>Runs a host with the frame server and says how its shutdown ended.</summary>
public static class FrameServerHostExtensions
{
    /// <summary>
    /// Runs <paramref name="host"/> until it stops, as <c>RunAsync</c> does, then returns whether the drain finished
    /// or the shutdown timeout cut it short, so a process can exit with a code that says so.
    /// </summary>
    public static async Task<FrameServerShutdown> RunFrameServerAsync(this IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);

        // Resolved before running: RunAsync disposes the host, and its services with it.
        FrameServerState state = host.Services.GetRequiredService<FrameServerState>();
        await host.RunAsync();
        return state.ShutdownTimedOut ? FrameServerShutdown.TimedOut : FrameServerShutdown.Drained;
    }
}
