using System.Net.Sockets;
using KestrelFrames.Primitives;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// A client's reset reaching the transport in the states where it is easiest to mishandle: while the transport has
/// stopped receiving because the input pipe is full (the epoll transport then no longer watches for input, and a
/// hang-up is reported all the same), and while large answers are being sent on several connections at once. A reset
/// after half a frame and a reset while one connection's answers are written are in HostileClientTests.
/// </summary>
[Collection(ProcessWideMeasurements.Name)] // It asserts no unobserved task exception in the whole process.
public sealed class ClientResetTests
{
    // SocketTransport:MaxReadBufferSize's default: the input pipe stops taking bytes at this much unread.
    private const long MaxReadBufferSize = 1024 * 1024;

    [Fact]
    public async Task A_client_reset_while_the_server_has_stopped_reading_it_for_backpressure_releases_everything_once_the_handlers_resume()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.EchoAfter(gate.Task));
        using var closures = new ConnectionClosures(server);
        using var unobserved = new UnobservedTaskExceptions();
        BlockMemoryPoolFactory transport = server.Services.GetRequiredService<BlockMemoryPoolFactory>();
        Task sending;
        using (var client = await server.ConnectAsync())
        {
            // 4 MiB of requests to held handlers: the in-flight window fills, the read loop stops, and the input pipe
            // fills up to its limit, where the transport stops receiving.
            byte[] request = FrameTestClient.Encode(new byte[16 * 1024]);
            sending = client.SendRawAsync([.. Enumerable.Repeat(request, 256).SelectMany(r => r)]);
            await Polling.UntilAsync(() => transport.RentedBytes >= MaxReadBufferSize, () => $"The input pipe never filled: {transport.RentedBytes} bytes rented.");

            FrameTestClients.Reset(client);
        }

        await Record.ExceptionAsync(() => sending); // The reset ends the client's own stalled send: observed here.
        gate.SetResult(); // The held requests finish; their answers meet the reset, and the input resumes onto it.
        await closures.WaitAsync(1);

        await HostileClient.AssertConnectionReleasedAsync(server);
        await Polling.UntilAsync(() => transport.RentedBytes == 0, () => $"Transport blocks still rented after the reset: {transport.RentedBytes} bytes.");
        unobserved.AssertNone();
        await HostileClient.AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task Eight_clients_reset_while_their_64_KiB_answers_are_being_sent_leave_no_connection_and_no_block_behind()
    {
        const int Clients = 8;
        await using var server = TestFrameServer.Start();
        using var closures = new ConnectionClosures(server);
        using var unobserved = new UnobservedTaskExceptions();
        BlockMemoryPoolFactory transport = server.Services.GetRequiredService<BlockMemoryPoolFactory>();
        FrameTestClient[] clients = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => server.ConnectAsync()));
        byte[] request = FrameTestClient.Encode(new byte[64 * 1024]);
        byte[] requests = [.. Enumerable.Repeat(request, 64).SelectMany(r => r)];

        await Task.WhenAll(clients.Select(async client =>
        {
            // A small receive window: 4 MiB of answers cannot have gone out by the time the first byte arrives.
            client.Socket.ReceiveBufferSize = 4096;
            Task sending = client.SendRawAsync(requests);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.Socket.ReceiveAsync(new byte[1], SocketFlags.Peek, timeout.Token);
            FrameTestClients.Reset(client);
            await Record.ExceptionAsync(() => sending);
        }));

        await closures.WaitAsync(Clients);

        await HostileClient.AssertConnectionReleasedAsync(server);
        await Polling.UntilAsync(() => transport.RentedBytes == 0, () => $"Transport blocks still rented after the resets: {transport.RentedBytes} bytes.");
        unobserved.AssertNone();
        await HostileClient.AssertServerStillServesAsync(server);
        FrameTestClients.DisposeAll(clients);
    }
}
