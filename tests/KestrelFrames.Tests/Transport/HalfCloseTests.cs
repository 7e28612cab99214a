using System.Net.Sockets;
using KestrelFrames.Primitives;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// A client's FIN ends only the server's input: the server answers everything it received, then closes with a FIN
/// of its own. FrameServerEchoTests covers a few small requests; here the FIN comes behind more requests than the
/// server takes in (held handlers: the in-flight window full, the input pipe full), so the transport has stopped
/// receiving for backpressure (on the epoll transport, input is then not watched at all) and must still find the
/// end of stream after the last request once it resumes.
/// </summary>
public sealed class HalfCloseTests
{
    private const int Requests = 160; // 2.5 MiB: 512 KiB in the in-flight window, 1 MiB in the input pipe, the rest in the kernel.
    private const int PayloadSize = 16 * 1024;
    private const long MaxReadBufferSize = 1024 * 1024;

    [Fact]
    public async Task A_client_that_half_closes_behind_more_requests_than_the_server_buffers_reads_every_answer_then_eof_without_a_reset()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.EchoAfter(gate.Task));
        BlockMemoryPoolFactory transport = server.Services.GetRequiredService<BlockMemoryPoolFactory>();
        using var client = await server.ConnectAsync();
        byte[][] payloads = [.. Enumerable.Range(0, Requests).Select(i => TestPayloads.Random(PayloadSize, seed: 1000 + i))];

        Task sending = Task.Run(async () =>
        {
            await client.SendRawAsync([.. payloads.SelectMany(p => FrameTestClient.Encode(p))]);
            client.Socket.Shutdown(SocketShutdown.Send);
        });
        await Polling.UntilAsync(() => transport.RentedBytes >= MaxReadBufferSize,
            () => $"The input pipe never filled: {transport.RentedBytes} transport bytes rented.");

        gate.SetResult();
        for (int i = 0; i < Requests; i++)
        {
            Frame answer = await client.ReadRequiredFrameAsync();
            Assert.False(answer.IsStatus, answer.ToString());
            Assert.True(payloads[i].AsSpan().SequenceEqual(answer.Payload), $"Answer {i} is not its request's echo.");
        }

        await sending;

        // A reset here would throw: the server read up to the FIN, answered everything, and closed cleanly.
        Assert.True(await client.IsClosedByServerAsync());
        await HostileClient.AssertServerStillServesAsync(server);
    }
}
