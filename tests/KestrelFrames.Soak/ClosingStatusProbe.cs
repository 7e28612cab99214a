namespace KestrelFrames.Soak;

/// <summary>
/// The shared check of the clients that break the framing on purpose: good requests, then bad bytes, in one write.
/// The protocol promises the answers to the good requests, then exactly the expected closing status, then a
/// graceful close (never a reset, since this client sends nothing more). Even attempts read on to the end of
/// stream (over TLS it comes when the server's linger ends); odd ones close as soon as they see the status, as
/// docs/protocol.md advises, so the server's let-go-at-once path runs too.
/// </summary>
internal static class ClosingStatusProbe
{
    public static async Task<Outcome> RunAsync(
        SoakOptions options, SoakTarget target, int attempt, byte[] bad, byte expectedCode, CancellationToken cancellationToken)
    {
        List<byte[]> good = FrameWire.RandomPayloads(Random.Shared, Random.Shared.Next(0, 3), 2048, heartbeats: true);
        byte[] bytes = [.. FrameWire.Frames(good), .. bad];
        SoakConnection connection;
        try
        {
            connection = await SoakConnection.ConnectAsync(target, options.PinnedCertificate, null, cancellationToken);
        }
        catch (Exception ex) when (ExceptionLabels.IsConnectionFailure(ex))
        {
            return Outcome.Unexpected("connect-" + ExceptionLabels.Of(ex), ExceptionLabels.Describe(ex));
        }

        await using (connection)
        {
            string step = "write";
            try
            {
                await connection.WriteAsync(bytes, cancellationToken);
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(options.LingerTimeout + SoakOptions.Slack);
                step = "read the answers before the status";
                if (await Echoes.VerifyAsync(connection, good, deadline.Token) is { } problem)
                {
                    return Outcome.Failure("wrong-answer", problem, 0);
                }

                step = "read the status";
                ServerFrame? status = await connection.ReadFrameAsync(Echoes.MaxAnswer, deadline.Token);
                if (status is null)
                {
                    return Outcome.Failure("closed-without-status", $"{good.Count} answers, then end of stream instead of {StatusCodes.Name(expectedCode)}", good.Count);
                }

                if (status.Code != expectedCode)
                {
                    return Outcome.Failure(status.IsStatus ? StatusCodes.Name(status.Code) : "answer", $"{status.Describe()} instead of {StatusCodes.Name(expectedCode)}", good.Count);
                }

                if (attempt % 2 == 1)
                {
                    return Outcome.Expected(StatusCodes.Name(expectedCode), good.Count);
                }

                step = "read the end of stream after the status";
                await connection.ExpectEndOfStreamAsync(deadline.Token);
                return Outcome.Expected(StatusCodes.Name(expectedCode) + "+eof", good.Count);
            }
            catch (Exception ex) when (ExceptionLabels.IsConnectionFailure(ex))
            {
                // Nothing here can legitimately break: the client sent all it had in one write and only reads.
                return Outcome.Failure(ExceptionLabels.Of(ex), $"{step}: {ExceptionLabels.Describe(ex)}");
            }
        }
    }
}
