namespace KestrelFrames.Soak;

/// <summary>
/// The good client: connect, pipeline a few requests and heartbeats of random sizes, check every answer, close.
/// Every other attempt half-closes and must then read a clean end of stream with nothing more (the protocol's
/// half-close rule); the others just close. Anything else (a wrong or missing answer, a status, a reset, a failed
/// connect or handshake) is a failure: nothing this client does may cost it an answer.
/// </summary>
internal sealed class ChurnClient(SoakOptions options) : ISoakClient
{
    private const int MaxRequests = 8;
    private const int MaxSize = 16 * 1024;

    public string Kind => "churn";

    public bool IsGood => true;

    public async Task<Outcome> RunOnceAsync(SoakTarget target, int attempt, CancellationToken cancellationToken)
    {
        List<byte[]> payloads = FrameWire.RandomPayloads(Random.Shared, Random.Shared.Next(1, MaxRequests + 1), MaxSize, heartbeats: true);
        string step = "connect";
        try
        {
            await using SoakConnection connection = await SoakConnection.ConnectAsync(target, options.PinnedCertificate, null, cancellationToken);
            step = "write";
            await connection.WriteAsync(FrameWire.Frames(payloads), cancellationToken);
            step = "read answers";
            if (await Echoes.VerifyAsync(connection, payloads, cancellationToken) is { } problem)
            {
                return Outcome.Failure("wrong-answer", problem);
            }

            if (attempt % 2 == 1)
            {
                return Outcome.Expected("ok-close", payloads.Count);
            }

            step = "half-close";
            await connection.HalfCloseAsync();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(SoakOptions.Slack);
            step = "read the end of stream after a half-close";
            await connection.ExpectEndOfStreamAsync(deadline.Token);
            return Outcome.Expected("ok-half-close", payloads.Count);
        }
        catch (Exception ex) when (ExceptionLabels.IsConnectionFailure(ex))
        {
            return Outcome.Failure(ExceptionLabels.Of(ex), $"{step}: {ExceptionLabels.Describe(ex)}");
        }
    }
}
