using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Connections;

/// <summary>
/// A connection the server ends (a closing status) closes with a FIN, never a reset: the server stops processing
/// input but reads and discards it until the client closes or Frames:LingerTimeout passes, so a client still
/// sending when the server ends the connection reads every answer it was owed, the status and a clean end of stream.
/// </summary>
public sealed class GracefulCloseTests
{
    private const int Pipelined = 50;

    // Longer than a loaded test machine can take between the client's last write and its close: these tests are
    // about the reset, not about how fast a client stops. LingerTimeout=0 fails them at once.
    private static readonly Dictionary<string, string?> s_longLinger = new() { ["Frames:LingerTimeout"] = "00:00:30" };

    [Fact]
    public async Task A_client_that_pipelines_triggers_frame_too_large_and_keeps_writing_for_300_ms_reads_every_answer_the_status_and_eof()
    {
        await using var server = TestFrameServer.Start(s_longLinger);
        using var client = await server.ConnectAsync();

        await client.SendRawAsync([.. PipelinedRequests(), .. Header(FrameHeader.MaxPayloadLength)]);
        int written = await KeepWritingAsync(client, TimeSpan.FromMilliseconds(300));

        for (int i = 0; i < Pipelined; i++)
        {
            Assert.Equal(Payload(i), (await client.ReadRequiredFrameAsync()).Payload);
        }

        Assert.Equal(FrameStatus.FrameTooLarge, (await client.ReadRequiredFrameAsync()).Status);
        Assert.True(await client.IsClosedByServerAsync());
        Assert.True(written > 0);
    }

    [Fact]
    public async Task A_client_still_writing_when_the_server_drains_reads_every_answer_shutting_down_and_eof()
    {
        var server = TestFrameServer.Start(s_longLinger);
        using var client = await server.ConnectAsync();
        await client.SendRawAsync(PipelinedRequests());
        // All of them answered first: a drain stops reading at once, so requests still in the socket when it starts
        // would (rightly) never be processed, and the count below would depend on how the transport split them.
        for (int i = 0; i < Pipelined; i++)
        {
            Assert.Equal(Payload(i), (await client.ReadRequiredFrameAsync()).Payload);
        }

        Task stopping = server.StopAsync();
        int written = await KeepWritingAsync(client, TimeSpan.FromMilliseconds(300));

        // Whatever the server processed is answered; it then says ShuttingDown and closes without a reset.
        int answered = Pipelined;
        Frame last;
        while (!(last = await client.ReadRequiredFrameAsync()).IsStatus)
        {
            answered++;
        }

        Assert.Equal(FrameStatus.ShuttingDown, last.Status);
        Assert.True(await client.IsClosedByServerAsync());
        Assert.InRange(answered, Pipelined, Pipelined + written);
        client.Dispose();
        await stopping;
    }

    [Fact]
    public async Task A_lingering_connection_still_counts_against_max_connections()
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:MaxConnections"] = "1" });
        using var lingering = await server.ConnectAsync();
        await lingering.SendRawAsync(Header(FrameHeader.StatusFlag | 1));
        Assert.Equal(FrameStatus.ProtocolError, (await lingering.ReadRequiredFrameAsync()).Status);
        Assert.True(await lingering.IsClosedByServerAsync()); // The server's FIN: it lingers, waiting for ours.

        using var next = await server.ConnectAsync();

        Assert.Equal(FrameStatus.ConnectionLimit, (await next.ReadRequiredFrameAsync()).Status);
    }

    [Fact]
    public async Task Refused_connections_linger_only_up_to_a_tenth_of_max_connections_at_once()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:MaxConnections"] = "10" }, time: time);
        using var closures = new ConnectionClosures(server);
        var held = new List<FrameTestClient>();
        for (int i = 0; i < 10; i++)
        {
            held.Add(await server.ConnectAsync());
            await HostileClient.RoundTripAsync(held[^1]);
        }

        // Two refused clients that never close: the first lingers (one, a tenth of 10), the second is closed at once.
        using var lingering = await server.ConnectAsync();
        Assert.Equal(FrameStatus.ConnectionLimit, (await lingering.ReadRequiredFrameAsync()).Status);
        using var closed = await server.ConnectAsync();
        Assert.Equal(FrameStatus.ConnectionLimit, (await closed.ReadRequiredFrameAsync()).Status);

        await closures.WaitAsync(1);
        Assert.Equal(1, closures.Count);
        held.ForEach(client => client.Dispose());
    }

    [Fact]
    public async Task A_client_that_never_closes_is_closed_when_the_linger_timeout_passes()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:LingerTimeout"] = "00:00:05" }, time: time);
        using var closures = new ConnectionClosures(server);
        using var client = await server.ConnectAsync();
        await client.SendRawAsync(Header(FrameHeader.StatusFlag | 1));
        Assert.Equal(FrameStatus.ProtocolError, (await client.ReadRequiredFrameAsync()).Status);
        Assert.True(await client.IsClosedByServerAsync());
        Assert.Equal(0, closures.Count);

        time.Advance(TimeSpan.FromSeconds(5));

        await closures.WaitAsync(1);
        await HostileClient.AssertConnectionReleasedAsync(server);
    }

    [Fact]
    public async Task A_client_that_does_not_take_its_answers_by_the_end_of_the_linger_is_aborted()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(new Dictionary<string, string?>
        {
            // No flush ever waits on this client, so only the linger's own check can notice it is not reading.
            ["SocketTransport:MaxWriteBufferSize"] = (64L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, time: time);
        using var closures = new ConnectionClosures(server);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        using var client = socket;
        await socket.ConnectAsync(server.FramesEndPoint);

        // 16 MiB of answers it never reads, more than the kernel buffers (tcp_wmem at most 4 MiB), then a header that
        // ends the connection.
        byte[] request = FrameTestClient.Encode(new byte[64 * 1024]);
        for (int i = 0; i < 256; i++)
        {
            await socket.SendAsync(request);
        }

        await socket.SendAsync(Header(FrameHeader.StatusFlag | 1));
        await MetricsScrape.ScrapeUntilAsync(server, t => MetricsScrape.Sample(t, HostileClient.ProtocolErrorSeries("protocol_error")) == 1);

        // The linger starts once the answers are in the transport; paced by the server, not the wall clock.
        for (int i = 0; i < 10 && closures.Count == 0; i++)
        {
            time.Advance(TimeSpan.FromSeconds(2));
            await server.Http.GetStringAsync("/metrics");
        }

        await closures.WaitAsync(1);

        // Aborted: reading now ends in a reset, where a connection left to its transport would hand over all
        // 16 MiB and then a clean end of stream.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        var error = await Record.ExceptionAsync(async () =>
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }
        });
        Assert.Equal(SocketError.ConnectionReset, Assert.IsType<SocketException>(error).SocketErrorCode);
    }

    [Fact]
    public async Task At_shutdown_the_linger_ends_with_the_hosts_shutdown_timeout()
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?>
        {
            ["Frames:LingerTimeout"] = "01:00:00",
            ["HostOptions:ShutdownTimeout"] = "00:00:00.5",
        });
        using var client = await server.ConnectAsync();
        await client.SendRawAsync(Header(FrameHeader.StatusFlag | 1));
        Assert.Equal(FrameStatus.ProtocolError, (await client.ReadRequiredFrameAsync()).Status);
        Assert.True(await client.IsClosedByServerAsync()); // Lingering now, for up to an hour, for this client to close.

        // The stop completes although the client never closes: the shutdown timeout aborts the lingering connection.
        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task With_linger_timeout_zero_the_server_closes_at_once()
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:LingerTimeout"] = "00:00:00" });
        using var closures = new ConnectionClosures(server);
        using var client = await server.ConnectAsync();

        await client.SendRawAsync(Header(FrameHeader.StatusFlag | 1));

        Assert.Equal(FrameStatus.ProtocolError, (await client.ReadRequiredFrameAsync()).Status);
        await closures.WaitAsync(1); // Closed while this client has not closed its side.
    }

    private static byte[] PipelinedRequests() => [.. Enumerable.Range(0, Pipelined).SelectMany(i => FrameTestClient.Encode(Payload(i)))];

    private static byte[] Payload(int i) => System.Text.Encoding.UTF8.GetBytes($"request {i}");

    private static byte[] Header(uint value)
    {
        var header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32BigEndian(header, value);
        return header;
    }

    /// <summary>Writes 1 KiB frames for <paramref name="duration"/>, as a client does that has not yet read the server's last answer.</summary>
    private static async Task<int> KeepWritingAsync(FrameTestClient client, TimeSpan duration)
    {
        byte[] frame = FrameTestClient.Encode(new byte[1024]);
        int written = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration && written < 100_000)
        {
            await client.SendRawAsync(frame);
            written++;
        }

        // The client is done sending; the half-close lets the server's linger end at once.
        client.Socket.Shutdown(SocketShutdown.Send);
        return written;
    }
}
