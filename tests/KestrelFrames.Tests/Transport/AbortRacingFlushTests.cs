using System.Buffers;
using System.Net.Sockets;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Hosting;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// The shutdown timeout aborts connections while their handlers are writing answers: the abort (on the epoll
/// transport, a reset posted to the loop) races flushes on worker threads, sends parked waiting for room, and the
/// transport's close. None of it may throw out of the server, log an error, or keep a block or a slot.
/// </summary>
[Collection(ProcessWideMeasurements.Name)] // It asserts no unobserved task exception in the whole process.
public sealed class AbortRacingFlushTests
{
    private const int Clients = 32;
    private const int Pipelined = 8;

    [Fact]
    public async Task Connections_aborted_at_the_shutdown_timeout_while_their_answers_flush_log_no_error_and_leak_nothing()
    {
        var logs = new LogWaiter();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        byte[] answer = new byte[64 * 1024];
        using var unobserved = new UnobservedTaskExceptions();
        var server = TestFrameServer.Start(services: services =>
        {
            logs.Register(services);
            services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
            DelegateFrameHandler.Use(async (frame, ct) =>
            {
                // Held until the shutdown timeout cancels it, then answered anyway: 64 KiB that are being flushed
                // (into sockets whose clients do not read) exactly as the server aborts the connections.
                entered.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                }

                frame.Response.Write(answer);
            })(services);
        });
        FrameTestClient[] clients = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => server.ConnectAsync()));
        foreach (FrameTestClient client in clients)
        {
            client.Socket.ReceiveBufferSize = 4096;
            await client.SendRawAsync([.. Enumerable.Range(0, Pipelined).SelectMany(_ => FrameTestClient.Encode("hold"u8))]);
        }

        await entered.Task;

        // Completes although no handler finished on its own and no client reads: everything left was aborted.
        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await logs.WaitForAsync("Shutdown timeout reached");

        // Each client sees its stream end (with whatever answers got out first), by a reset or an end of stream.
        await Task.WhenAll(clients.Select(DrainUntilClosedAsync));
        FrameTestClients.DisposeAll(clients);

        await server.DisposeAsync(); // Asserts every slot, budget byte and transport block came back.
        unobserved.AssertNone();
        string[] errors = [.. logs.Lines.Where(l => l.StartsWith("Error:", StringComparison.Ordinal) || l.StartsWith("Critical:", StringComparison.Ordinal))];
        Assert.True(errors.Length == 0, string.Join("\n", errors));

        // The process is still fit to serve: a new server on the same runtime starts, answers and stops cleanly.
        await using var next = TestFrameServer.Start();
        await HostileClient.AssertServerStillServesAsync(next);
    }

    private static async Task DrainUntilClosedAsync(FrameTestClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        try
        {
            while (await client.Socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
    }
}
