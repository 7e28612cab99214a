using System.Net.Sockets;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// Stopping the server while every event loop is busy: eight clients pipeline without pause, on connections spread
/// over the loops, when the drain begins. Each must still be told ShuttingDown after an in-order prefix of its
/// answers, then get a clean end of stream once it stops writing: the drain's close (a FIN after the last byte) must
/// not be lost among the receives and sends the loops are busy with. GracefulCloseTests covers one such client.
/// </summary>
public sealed class BusyShutdownTests
{
    private const int Clients = 8;
    private const int Batch = 16;

    // The server reads and discards what clients send after ShuttingDown until they close; they do close, but a
    // loaded machine may take a while to get there.
    private static readonly Dictionary<string, string?> s_longLinger = new() { ["Frames:LingerTimeout"] = "00:00:30" };

    [Fact]
    public async Task Stopping_while_eight_connections_pipeline_nonstop_ends_each_with_its_answers_in_order_shutting_down_and_eof()
    {
        var server = TestFrameServer.Start(s_longLinger);
        FrameTestClient[] clients = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => server.ConnectAsync()));
        var answering = clients.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var told = clients.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();

        // On the thread pool, each: a send that completes at once would otherwise keep its writer on this thread.
        Task<int>[] readers = [.. clients.Select((client, c) => Task.Run(() => ReadUntilShuttingDownAsync(client, answering[c], told[c])))];
        Task<int>[] writers = [.. clients.Select((client, c) => Task.Run(() => WriteUntilToldAsync(client, told[c].Task)))];

        await Task.WhenAll(answering.Select(a => a.Task)); // Every connection is in full flow.
        Task stopping = server.StopAsync();

        int[] answered = await Task.WhenAll(readers);
        int[] written = await Task.WhenAll(writers);
        for (int c = 0; c < Clients; c++)
        {
            Assert.InRange(answered[c], 1, written[c]);

            // Nothing after ShuttingDown but the server's FIN; a reset would throw here.
            Assert.True(await clients[c].IsClosedByServerAsync(), $"Client {c} got more after ShuttingDown.");
        }

        FrameTestClients.DisposeAll(clients);
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        await server.DisposeAsync();
    }

    /// <summary>Batches of numbered requests until told to stop, then a half-close; returns how many were sent.</summary>
    private static async Task<int> WriteUntilToldAsync(FrameTestClient client, Task told)
    {
        int next = 0;
        while (!told.IsCompleted)
        {
            // The test process completes socket operations inline on the runtime's one socket-engine thread
            // (KestrelFrames.Tests.runsettings). A send that completes at once would keep this loop on that thread for
            // as long as the server drains it (the epoll transport reads on threads of its own), and no other client,
            // this one's reader included, would see its data: the reader would never tell this loop to stop.
            await Task.Yield();

            await client.SendRawAsync([.. Enumerable.Range(next, Batch).SelectMany(i => FrameTestClient.Encode(BitConverter.GetBytes(i)))]);
            next += Batch;
        }

        client.Socket.Shutdown(SocketShutdown.Send);
        return next;
    }

    /// <summary>Reads the answers, each the echo of the next request, up to ShuttingDown; returns how many.</summary>
    private static async Task<int> ReadUntilShuttingDownAsync(FrameTestClient client, TaskCompletionSource answering, TaskCompletionSource told)
    {
        int i = 0;
        try
        {
            Frame frame;
            while (!(frame = await client.ReadRequiredFrameAsync()).IsStatus)
            {
                await Task.Yield(); // As in the writer: reads that complete at once must not keep the socket-engine thread.
                Assert.Equal(i, BitConverter.ToInt32(frame.Payload));
                i++;
                answering.TrySetResult();
            }

            Assert.Equal(FrameStatus.ShuttingDown, frame.Status);
            return i;
        }
        finally
        {
            // Stops the writer whatever happened, so a failure here fails the test instead of hanging it.
            told.TrySetResult();
            answering.TrySetResult();
        }
    }
}
