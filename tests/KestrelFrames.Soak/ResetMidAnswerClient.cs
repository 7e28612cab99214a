namespace KestrelFrames.Soak;

/// <summary>
/// Pipelines several 64 KiB requests with a small receive buffer, reads a little of the first answer (checked), then
/// resets: the server is left with answers half written and requests still queued or running, and must release all
/// of it without an error of its own.
/// </summary>
internal sealed class ResetMidAnswerClient(SoakOptions options) : ISoakClient
{
    private const int RequestSize = 64 * 1024;
    private const int ReceiveBuffer = 16 * 1024;

    // Up to the server's default in-flight limit: all of them are read and dispatched.
    private const int MaxRequests = 32;

    // The same random payload for every attempt: megabytes of fresh garbage per attempt would cost the shared
    // cores more than the check of its first bytes is worth.
    private static readonly byte[] s_payload = RandomBytes();
    private static readonly byte[] s_requests = FrameWire.Frames(Enumerable.Repeat(s_payload, MaxRequests).ToArray());

    public string Kind => "reset-mid-answer";

    public bool IsGood => false;

    public async Task<Outcome> RunOnceAsync(SoakTarget target, int attempt, CancellationToken cancellationToken)
    {
        int count = Random.Shared.Next(8, MaxRequests + 1);
        ReadOnlyMemory<byte> requests = s_requests.AsMemory(0, count * (FrameWire.HeaderLength + RequestSize));
        int readBytes = Random.Shared.Next(1, RequestSize);
        try
        {
            await using SoakConnection connection = await SoakConnection.ConnectAsync(target, options.PinnedCertificate, ReceiveBuffer, cancellationToken);
            using var stopWriting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task writing = connection.WriteAsync(requests, stopWriting.Token);
            byte[] start = new byte[FrameWire.HeaderLength + readBytes];
            await connection.ReadExactlyAsync(start, "the first answer", cancellationToken);
            bool right = start.AsSpan(0, FrameWire.HeaderLength).SequenceEqual(FrameWire.Header(RequestSize))
                && start.AsSpan(FrameWire.HeaderLength).SequenceEqual(s_payload.AsSpan(0, readBytes));
            connection.Reset();
            await stopWriting.CancelAsync();
            try
            {
                await writing;
            }
            catch (Exception ex) when (ExceptionLabels.IsConnectionFailure(ex))
            {
                // The write was cut by our own reset.
            }

            return right
                ? Outcome.Expected("reset", 0)
                : Outcome.Failure("wrong-answer", $"the first {readBytes} bytes of the first answer are not the echo of a {RequestSize}-byte request");
        }
        catch (Exception ex) when (ExceptionLabels.IsConnectionFailure(ex))
        {
            return Outcome.Unexpected(ExceptionLabels.Of(ex), ExceptionLabels.Describe(ex));
        }
    }

    private static byte[] RandomBytes()
    {
        byte[] bytes = new byte[RequestSize];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
