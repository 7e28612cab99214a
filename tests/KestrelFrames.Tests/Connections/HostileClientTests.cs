using System.Buffers.Binary;
using System.Net.Sockets;
using KestrelFrames.Connections;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Connections;

[Collection(ProcessWideMeasurements.Name)]
public sealed class HostileClientTests
{
    private const int MaxFrameSize = 512 * 1024 * 1024;

    [Fact]
    public async Task A_header_announcing_more_than_the_max_frame_size_gets_frame_too_large_without_the_server_allocating_it()
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?>
        {
            ["Frames:MaxFrameSize"] = MaxFrameSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Frames:MaxBufferedBytes"] = MaxFrameSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var client = await server.ConnectAsync();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        await client.SendRawAsync(Header((uint)MaxFrameSize + 1));
        Frame answer = await client.ReadRequiredFrameAsync();
        bool closed = await client.IsClosedByServerAsync();

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.Equal(FrameStatus.FrameTooLarge, answer.Status);
        Assert.True(closed);
        Assert.True(allocated < 64L * 1024 * 1024, $"The exchange allocated {allocated} bytes: the announced size was buffered.");
        Assert.Equal(1, await HostileClient.ProtocolErrorsAsync(server, "frame_too_large"));
        await HostileClient.AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task A_header_with_the_status_bit_set_gets_protocol_error_and_is_closed()
    {
        await using var server = TestFrameServer.Start();
        using var client = await server.ConnectAsync();

        await client.SendRawAsync(Header(FrameHeader.StatusFlag | 5u));

        Assert.Equal(FrameStatus.ProtocolError, (await client.ReadRequiredFrameAsync()).Status);
        Assert.True(await client.IsClosedByServerAsync());
        Assert.Equal(1, await HostileClient.ProtocolErrorsAsync(server, "protocol_error"));
        await HostileClient.AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task A_client_that_leaves_after_half_a_header_is_closed_cleanly_and_is_no_protocol_error()
    {
        await using var server = TestFrameServer.Start();
        using var closures = new ConnectionClosures(server);
        using (var client = await server.ConnectAsync())
        {
            await client.SendRawAsync([0, 0]);
            client.Socket.Shutdown(SocketShutdown.Send);

            // End of stream, no status frame: the server dropped the partial header without blaming the client.
            Assert.True(await client.IsClosedByServerAsync());
        }

        await closures.WaitAsync(1);

        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(0, MetricsScrape.Sample(metrics, "frames_active_connections"));
        Assert.All(HostileClient.ProtocolErrorReasons, reason =>
            Assert.Equal(0, MetricsScrape.Sample(metrics, HostileClient.ProtocolErrorSeries(reason))));
        await HostileClient.AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task A_client_reset_in_the_middle_of_a_payload_releases_the_connection_and_its_reserved_bytes()
    {
        await using var server = TestFrameServer.Start();
        using var closures = new ConnectionClosures(server);
        using var unobserved = new UnobservedTaskExceptions();
        using var pacer = await server.ConnectAsync();
        using (var client = await server.ConnectAsync())
        {
            await HostileClient.RoundTripAsync(client); // The server has this connection in its read loop.
            await client.SendRawAsync([.. Header(100_000), .. new byte[10]]);
            await HostileClient.RoundTripAsync(pacer); // And has most likely read the partial frame by now.
            FrameTestClients.Reset(client);
        }

        pacer.Dispose();
        await closures.WaitAsync(2); // Both closed: the pacer too, so no connection should be counted open.

        await HostileClient.AssertConnectionReleasedAsync(server);
        unobserved.AssertNone();
        await HostileClient.AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task A_client_reset_while_its_answers_are_being_written_releases_the_connection_and_its_requests()
    {
        await using var server = TestFrameServer.Start();
        using var closures = new ConnectionClosures(server);
        using var unobserved = new UnobservedTaskExceptions();
        using (var client = await server.ConnectAsync())
        {
            // A small receive window, so the answers to 200 requests of 16 KiB cannot all be written before the reset.
            client.Socket.ReceiveBufferSize = 16 * 1024;
            byte[] request = FrameTestClient.Encode(new byte[16 * 1024]);
            Task sending = client.SendRawAsync([.. Enumerable.Repeat(request, 200).SelectMany(r => r)]);

            // The first answer bytes in the receive queue: the server is writing answers (peeking leaves them unread).
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.Socket.ReceiveAsync(new byte[1], SocketFlags.Peek, timeout.Token);
            FrameTestClients.Reset(client);
            await Record.ExceptionAsync(() => sending); // The reset may fail the client's own send: observed here.
        }

        await closures.WaitAsync(1);

        await HostileClient.AssertConnectionReleasedAsync(server);
        unobserved.AssertNone();
        await HostileClient.AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task A_connection_older_than_max_connection_age_gets_shutting_down_and_is_closed()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(MaxAgeSettings(), time: time);
        using var client = await server.ConnectAsync();
        await client.SendFrameAsync("first"u8);
        Assert.Equal("first"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);

        time.Advance(MaxAgeWithJitterAndTick);

        Assert.Equal(FrameStatus.ShuttingDown, (await client.ReadRequiredFrameAsync()).Status);
        Assert.True(await client.IsClosedByServerAsync());
        await HostileClient.AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task A_request_in_flight_when_the_max_connection_age_passes_is_answered_before_shutting_down()
    {
        var time = new FakeTimeProvider();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = TestFrameServer.Start(MaxAgeSettings(), DelegateFrameHandler.Use(async (frame, _) =>
        {
            if (frame.Request.Span.SequenceEqual("pipelined"u8))
            {
                started.TrySetResult();
                await gate.Task;
            }

            await DelegateFrameHandler.Echo(frame);
        }), time);
        using var client = await server.ConnectAsync();
        await client.SendFrameAsync("first"u8);
        Assert.Equal("first"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
        await client.SendFrameAsync("pipelined"u8);
        await started.Task;

        time.Advance(MaxAgeWithJitterAndTick); // The heartbeat runs inside Advance: the age has passed on return.
        gate.SetResult();

        Assert.Equal("pipelined"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
        Assert.Equal(FrameStatus.ShuttingDown, (await client.ReadRequiredFrameAsync()).Status);
        Assert.True(await client.IsClosedByServerAsync());
        await HostileClient.AssertServerStillServesAsync(server);
    }

    // Age 60 s, plus at most 10% jitter, plus one heartbeat tick.
    private static TimeSpan MaxAgeWithJitterAndTick => TimeSpan.FromSeconds(66) + FrameHeartbeat.Interval;

    // The idle timeout (default 60 s) would otherwise pass first on a connection with nothing in flight.
    private static Dictionary<string, string?> MaxAgeSettings() => new()
    {
        ["Frames:MaxConnectionAge"] = "00:01:00",
        ["Frames:IdleTimeout"] = "00:10:00",
    };

    private static byte[] Header(uint raw)
    {
        var header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32BigEndian(header, raw);
        return header;
    }
}

