namespace KestrelFrames.Soak;

/// <summary>
/// One good request (its echo is checked), then a header and part of its payload, then a TCP reset: a client that
/// crashed mid-frame. The server must drop the partial frame and give back its budget reservation; that shows in
/// the script's checks (descriptors, connections, memory, no Error line), not here.
/// </summary>
internal sealed class ResetMidFrameClient(SoakOptions options) : ISoakClient
{
    public string Kind => "reset-mid-frame";

    public bool IsGood => false;

    public async Task<Outcome> RunOnceAsync(SoakTarget target, int attempt, CancellationToken cancellationToken)
    {
        List<byte[]> first = FrameWire.RandomPayloads(Random.Shared, 1, 1024, heartbeats: false);
        int announced = Random.Shared.Next(1024, 64 * 1024 + 1);
        byte[] partial = new byte[FrameWire.HeaderLength + Random.Shared.Next(0, announced)];
        Random.Shared.NextBytes(partial);
        FrameWire.Header((uint)announced).CopyTo(partial, 0);
        try
        {
            await using SoakConnection connection = await SoakConnection.ConnectAsync(target, options.PinnedCertificate, null, cancellationToken);
            await connection.WriteAsync(FrameWire.Frames(first), cancellationToken);
            if (await Echoes.VerifyAsync(connection, first, cancellationToken) is { } problem)
            {
                return Outcome.Failure("wrong-answer", problem);
            }

            await connection.WriteAsync(partial, cancellationToken);

            // Sometimes at once, sometimes after the server has surely read the partial frame and reserved for it.
            await Task.Delay(Random.Shared.Next(0, 30), cancellationToken);
            connection.Reset();
            return Outcome.Expected("reset", 1);
        }
        catch (Exception ex) when (ExceptionLabels.IsConnectionFailure(ex))
        {
            return Outcome.Unexpected(ExceptionLabels.Of(ex), ExceptionLabels.Describe(ex));
        }
    }
}
