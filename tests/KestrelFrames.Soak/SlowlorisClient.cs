namespace KestrelFrames.Soak;

/// <summary>
/// Sends one small frame a byte at a time, header included, so slowly that the whole frame would take four read
/// timeouts (the last byte would leave seconds after the timeout is due, even on a saturated machine). Expected: FrameTimeout (after ReadTimeout, up to a heartbeat tick late), then a graceful close; the
/// client stops sending when it sees the status. The frame going through whole means the read timeout did not
/// work: a failure, like any other status or a reset.
/// </summary>
internal sealed class SlowlorisClient(SoakOptions options) : ISoakClient
{
    private const int PayloadSize = 16;
    private const int Stretch = 4;

    public string Kind => "slowloris";

    public bool IsGood => false;

    public async Task<Outcome> RunOnceAsync(SoakTarget target, int attempt, CancellationToken cancellationToken)
    {
        byte[] payload = new byte[PayloadSize];
        Random.Shared.NextBytes(payload);
        byte[] frame = FrameWire.Frames([payload]);
        TimeSpan trickle = Stretch * options.ReadTimeout;
        TimeSpan interval = trickle / frame.Length;
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
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(trickle + options.LingerTimeout + SoakOptions.TimeoutTick + SoakOptions.Slack);
            string step = "trickle the frame";
            try
            {
                Task<ServerFrame?> reading = connection.ReadFrameAsync(Echoes.MaxAnswer, deadline.Token);
                int sent = 0;
                while (sent < frame.Length && !reading.IsCompleted)
                {
                    await connection.WriteAsync(frame.AsMemory(sent, 1), deadline.Token);
                    sent++;
                    await Task.WhenAny(reading, Task.Delay(interval, deadline.Token));
                }

                step = "read the status";
                ServerFrame? answer = await reading;
                if (answer is null)
                {
                    return Outcome.Failure("closed-without-status", $"end of stream after {sent} of {frame.Length} bytes, no FrameTimeout");
                }

                if (answer.Code != StatusCodes.FrameTimeout)
                {
                    string label = answer.IsStatus ? StatusCodes.Name(answer.Code) : "no-timeout";
                    return Outcome.Failure(label, $"{answer.Describe()} after {sent} of {frame.Length} bytes sent {interval.TotalMilliseconds:0} ms apart");
                }

                step = "read the end of stream after the status";
                await connection.ExpectEndOfStreamAsync(deadline.Token);
                return Outcome.Expected("FrameTimeout+eof");
            }
            catch (Exception ex) when (ExceptionLabels.IsConnectionFailure(ex))
            {
                return Outcome.Failure(ExceptionLabels.Of(ex), $"{step}: {ExceptionLabels.Describe(ex)}");
            }
        }
    }
}
