using KestrelFrames.Protocol;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Hosting;

/// <summary>The drain contract end to end: the server binary in its own process, stopped by SIGTERM under load.</summary>
public sealed class SignalDrainTests
{
    [Fact]
    public async Task Sigterm_under_load_exits_zero_and_every_request_is_answered_or_told_to_resend()
    {
        const int Connections = 16;
        const int Depth = 8;
        await using var server = ServerProcess.Start("--Frames:DrainDelay=00:00:00.2");
        var frames = await server.FramesEndPoint;
        var firstAnswers = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int answeredSoFar = 0;

        var load = Enumerable.Range(0, Connections).Select(async c =>
        {
            using var client = await FrameTestClient.ConnectAsync(frames);
            using var credits = new SemaphoreSlim(Depth);
            int sent = 0;
            int answered = 0;
            var reading = Task.Run(async () =>
            {
                while (true)
                {
                    Frame? frame = await client.ReadFrameAsync();
                    if (frame is null || frame.IsStatus)
                    {
                        return frame;
                    }

                    Assert.Equal(Tag(c, answered), frame.Payload);
                    answered++;
                    credits.Release();
                    if (Interlocked.Increment(ref answeredSoFar) == Connections * Depth)
                    {
                        firstAnswers.TrySetResult();
                    }
                }
            });

            // Keep Depth requests in flight until the server says it is shutting down.
            while (await Task.WhenAny(credits.WaitAsync(), reading) != reading)
            {
                try
                {
                    await client.SendFrameAsync(Tag(c, sent));
                    sent++;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    break; // The server closed after ShuttingDown; the read side tells the rest.
                }
            }

            Frame? last = await reading;
            return (sent, answered, last);
        }).ToArray();

        await firstAnswers.Task;
        server.Terminate();
        var results = await Task.WhenAll(load);

        Assert.Equal(0, await server.WaitForExitAsync());
        foreach (var (sent, answered, last) in results)
        {
            // Every connection ends with ShuttingDown, never a bare close: what was not answered was not processed.
            Assert.NotNull(last);
            Assert.Equal(FrameStatus.ShuttingDown, last.Status);
            Assert.True(answered <= sent);
        }

        Assert.Contains("Drained", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Shutdown timeout reached", server.Output, StringComparison.Ordinal);
    }

    private static byte[] Tag(int connection, int index) => System.Text.Encoding.UTF8.GetBytes($"{connection}:{index}");
}
