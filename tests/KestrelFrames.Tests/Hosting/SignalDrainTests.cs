using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
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

    [Fact]
    public async Task A_drain_cut_short_by_the_shutdown_timeout_exits_with_code_3()
    {
        // A client that never closes holds its connection in the linger after ShuttingDown, for far longer than the
        // shutdown timeout: the drain cannot finish, whatever the machine's speed.
        await using var server = ServerProcess.Start("--HostOptions:ShutdownTimeout=00:00:01", "--Frames:LingerTimeout=00:05:00");
        using var client = await FrameTestClient.ConnectAsync(await server.FramesEndPoint);
        await client.SendFrameAsync("hello"u8);
        Assert.Equal("hello"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);

        server.Terminate();

        Assert.Equal(FrameStatus.ShuttingDown, (await client.ReadRequiredFrameAsync()).Status);
        Assert.Equal(3, await server.WaitForExitAsync());
        Assert.Contains("Shutdown timeout reached", server.Output, StringComparison.Ordinal);
        Assert.Contains("Drain cut short by the shutdown timeout", server.Output, StringComparison.Ordinal);
    }

    public static TheoryData<int> Runs => [.. Enumerable.Range(1, 20)];

    /// <summary>
    /// Clients that pipeline without pause are still writing when the drain ends their connections: the server must
    /// read and discard what they send after ShuttingDown instead of closing into it, or the reset would throw away
    /// answers the server already counted as sent.
    /// </summary>
    [Theory]
    [MemberData(nameof(Runs))]
    public async Task Sigterm_under_nonstop_pipelining_every_connection_ends_with_shutting_down_and_receives_every_answer_the_server_counted(int run)
    {
        const int Connections = 8;
        const int Window = 2048;

        // A linger far longer than a loaded test machine can take to act on ShuttingDown: the test is about the reset,
        // not about how quickly a client stops. With LingerTimeout=0 (no linger) it fails at once.
        await using var server = ServerProcess.Start("--Frames:LingerTimeout=00:00:30");
        var frames = await server.FramesEndPoint;
        var warmedUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int answering = 0;

        var load = Enumerable.Range(0, Connections).Select(async c =>
        {
            using var client = await FrameTestClient.ConnectAsync(frames);
            using var done = new CancellationTokenSource();
            using var credits = new SemaphoreSlim(Window);
            var reading = Task.Run(async () =>
            {
                int answered = 0;
                try
                {
                    while (true)
                    {
                        Frame? frame = await client.ReadFrameAsync();
                        if (frame is null || frame.IsStatus)
                        {
                            return (answered, frame);
                        }

                        Assert.Equal(answered, BinaryPrimitives.ReadInt32BigEndian(frame.Payload));

                        // SIGTERM only once every connection is answering: one still in the listen queue when the
                        // server unbinds is reset by the kernel, which says nothing about how the server closes.
                        if (++answered == 100 && Interlocked.Increment(ref answering) == Connections)
                        {
                            warmedUp.TrySetResult();
                        }

                        credits.Release();
                    }
                }
                finally
                {
                    await done.CancelAsync();
                }
            });

            // Batches of 16 numbered requests, written without waiting for their answers; up to Window of them
            // unanswered, far more than the server takes in at once, so it always has unread input when it drains.
            int sent = 0;
            var batch = new byte[16 * 8];
            try
            {
                while (true)
                {
                    for (int i = 0; i < 16; i++)
                    {
                        await credits.WaitAsync(done.Token);
                        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(i * 8), 4);
                        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan((i * 8) + 4), sent++);
                    }

                    await client.SendRawAsync(batch);
                }
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
                // The server's last frame arrived: stop sending, as a client does when told ShuttingDown.
            }

            client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            return await reading;
        }).ToArray();

        // A connection that fails before it is warm must fail the test, not leave it waiting for the others.
        Task<(int answered, Frame? frame)[]> all = Task.WhenAll(load);
        await Task.WhenAny(warmedUp.Task, all);
        Assert.False(all.IsFaulted, all.Exception?.ToString());
        server.Terminate();
        var results = await all;

        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.All(results, r => Assert.Equal(FrameStatus.ShuttingDown, r.frame?.Status));
        Match counted = Regex.Match(server.Output, @"(\d+) requests answered since start");
        Assert.True(counted.Success, server.Output);
        Assert.Equal(long.Parse(counted.Groups[1].Value, CultureInfo.InvariantCulture), results.Sum(r => (long)r.answered));
        Assert.True(run > 0);
    }

    private static byte[] Tag(int connection, int index) => System.Text.Encoding.UTF8.GetBytes($"{connection}:{index}");
}
