using System.Diagnostics;
using System.Globalization;

namespace KestrelFrames.Soak;

/// <summary>
/// Pipelines large requests and never reads: once the server's answers fill the socket buffers its flush waits,
/// and after WriteTimeout (plus up to a tick) the server must abort the connection, which the client sees as its
/// own blocked write failing. Not being aborted within the deadline is a failure: the server would hold the
/// connection and its answers forever.
/// </summary>
internal sealed class NeverReadingClient(SoakOptions options) : ISoakClient
{
    private const int RequestSize = 256 * 1024;
    private const int RequestsPerWrite = 4;

    // Far above what the buffers can take (in-flight requests, the transport's 1 MiB, the kernel's buffers on both
    // sides): a server that reads on past this is not pushing back at all.
    private const long MaxBytes = 256L * 1024 * 1024;

    // Small, so the server's answers back up after a few KiB instead of the kernel's default megabytes.
    private const int ReceiveBuffer = 4096;

    // Built once: the content does not matter, the server never gets to answer most of it.
    private static readonly byte[] s_batch = FrameWire.Frames(Enumerable.Repeat(new byte[RequestSize], RequestsPerWrite).ToArray());

    public string Kind => "never-reading";

    public bool IsGood => false;

    public async Task<Outcome> RunOnceAsync(SoakTarget target, int attempt, CancellationToken cancellationToken)
    {
        SoakConnection connection;
        try
        {
            connection = await SoakConnection.ConnectAsync(target, options.PinnedCertificate, ReceiveBuffer, cancellationToken);
        }
        catch (Exception ex) when (ExceptionLabels.IsConnectionFailure(ex))
        {
            return Outcome.Unexpected("connect-" + ExceptionLabels.Of(ex), ExceptionLabels.Describe(ex));
        }

        await using (connection)
        {
            TimeSpan limit = options.WriteTimeout + SoakOptions.TimeoutTick + (2 * SoakOptions.Slack);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(limit);
            long started = Stopwatch.GetTimestamp();
            long written = 0;
            try
            {
                while (written < MaxBytes)
                {
                    await connection.WriteAsync(s_batch, deadline.Token);
                    written += s_batch.Length;
                }

                return Outcome.Failure("never-blocked", $"wrote {Mib(written)} MiB without reading and the server still read on");
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                return Outcome.Failure("not-aborted", $"wrote {Mib(written)} MiB, read nothing, and was still connected after {limit.TotalSeconds:0} s");
            }
            catch (Exception ex) when (ExceptionLabels.IsConnectionFailure(ex))
            {
                double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                return ExceptionLabels.IsReset(ex) || ex is IOException
                    ? Outcome.Expected("aborted")
                    : Outcome.Unexpected(ExceptionLabels.Of(ex), $"after {seconds:0.0} s and {Mib(written)} MiB: {ExceptionLabels.Describe(ex)}");
            }
        }
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture);
}
