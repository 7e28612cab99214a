using System.Buffers;
using System.Diagnostics;

namespace KestrelFrames.LaneBench;

/// <summary>Spins for a fixed time, then echoes: a handler with CPU work that saturates the workers.</summary>
internal sealed class WorkingEchoHandler(int workMicroseconds) : IFrameHandler
{
    private readonly long _workTicks = workMicroseconds * Stopwatch.Frequency / 1_000_000;

    public ValueTask HandleAsync(FrameContext frame, CancellationToken cancellationToken)
    {
        long until = Stopwatch.GetTimestamp() + _workTicks;
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(20);
        }

        frame.Response.Write(frame.Request.Span);
        return ValueTask.CompletedTask;
    }
}
