using System.Buffers.Binary;
using KestrelFrames.Connections;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Connections;

/// <summary>
/// One connection's deadlines, stamped the way its loops stamp them and checked the way the heartbeat checks them,
/// on a fake clock that only <see cref="FakeTimeProvider.Advance"/> moves.
/// </summary>
public sealed class ConnectionTimeoutsTests
{
    private static readonly TimeSpan s_readTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_idleTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_writeTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_justUnder = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();

    private long Now => _time.GetTimestamp();

    [Fact]
    public void A_connection_with_nothing_in_flight_times_out_idle_exactly_at_the_idle_timeout()
    {
        var timeouts = New();

        _time.Advance(s_idleTimeout - s_justUnder);
        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: true));

        _time.Advance(s_justUnder);
        Assert.Equal(ConnectionTimeout.Idle, timeouts.Check(Now, nothingInFlight: true));
    }

    [Fact]
    public void A_connection_with_answers_in_flight_is_never_idle()
    {
        var timeouts = New();

        _time.Advance(s_idleTimeout * 10);

        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: false));
    }

    [Fact]
    public void A_read_that_parses_a_frame_restarts_the_idle_clock()
    {
        var timeouts = New();
        _time.Advance(s_idleTimeout - TimeSpan.FromSeconds(1));

        timeouts.AfterRead(Now, partialFrameLeft: false, parsedAny: true);
        _time.Advance(s_idleTimeout - s_justUnder);
        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: true));

        _time.Advance(s_justUnder);
        Assert.Equal(ConnectionTimeout.Idle, timeouts.Check(Now, nothingInFlight: true));
    }

    [Fact]
    public void A_read_that_parses_nothing_and_leaves_nothing_is_not_activity()
    {
        var timeouts = New();
        _time.Advance(s_idleTimeout - TimeSpan.FromSeconds(1));

        timeouts.AfterRead(Now, partialFrameLeft: false, parsedAny: false);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(ConnectionTimeout.Idle, timeouts.Check(Now, nothingInFlight: true));
    }

    [Fact]
    public void A_completed_flush_restarts_the_idle_clock()
    {
        var timeouts = New();
        _time.Advance(s_idleTimeout - TimeSpan.FromSeconds(1));

        timeouts.FlushStarted(Now);
        timeouts.FlushCompleted(Now);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: true));
    }

    [Fact]
    public void A_partial_frame_must_complete_within_the_read_timeout()
    {
        var timeouts = New();
        timeouts.AfterRead(Now, partialFrameLeft: true, parsedAny: false);

        _time.Advance(s_readTimeout - s_justUnder);
        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: true));

        _time.Advance(s_justUnder);
        Assert.Equal(ConnectionTimeout.Frame, timeouts.Check(Now, nothingInFlight: true));
    }

    [Fact]
    public void More_bytes_of_the_same_frame_do_not_extend_its_read_timeout()
    {
        var timeouts = New();
        timeouts.AfterRead(Now, partialFrameLeft: true, parsedAny: false);

        // A slowloris: a byte every second, never a whole frame.
        for (int i = 0; i < 9; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            timeouts.AfterRead(Now, partialFrameLeft: true, parsedAny: false);
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ConnectionTimeout.Frame, timeouts.Check(Now, nothingInFlight: false));
    }

    [Fact]
    public void A_partial_frame_behind_complete_ones_gets_a_read_timeout_of_its_own()
    {
        var timeouts = New();
        timeouts.AfterRead(Now, partialFrameLeft: true, parsedAny: false);
        _time.Advance(TimeSpan.FromSeconds(8));

        // The first frame completes in time and the next one starts in the same read.
        timeouts.AfterRead(Now, partialFrameLeft: true, parsedAny: true);
        _time.Advance(s_readTimeout - s_justUnder);
        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: false));

        _time.Advance(s_justUnder);
        Assert.Equal(ConnectionTimeout.Frame, timeouts.Check(Now, nothingInFlight: false));
    }

    [Fact]
    public void A_frame_that_completes_clears_its_read_timeout()
    {
        var timeouts = New();
        timeouts.AfterRead(Now, partialFrameLeft: true, parsedAny: false);
        _time.Advance(s_readTimeout - TimeSpan.FromSeconds(1));

        timeouts.AfterRead(Now, partialFrameLeft: false, parsedAny: true);
        _time.Advance(s_readTimeout * 3);

        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: false));
    }

    [Fact]
    public void A_frame_in_progress_is_not_idleness()
    {
        var timeouts = New(new FrameServerOptions { ReadTimeout = TimeSpan.FromMinutes(5), IdleTimeout = s_idleTimeout });
        timeouts.AfterRead(Now, partialFrameLeft: true, parsedAny: false);

        _time.Advance(s_idleTimeout * 2);

        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: true));
    }

    [Fact]
    public void While_the_read_is_paused_neither_the_read_nor_the_idle_timeout_runs()
    {
        var timeouts = New();
        timeouts.AfterRead(Now, partialFrameLeft: true, parsedAny: false);

        timeouts.PauseRead();
        _time.Advance(s_idleTimeout * 2);

        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: true));
    }

    [Fact]
    public void Resuming_gives_a_frame_in_progress_a_fresh_read_timeout()
    {
        var timeouts = New();
        timeouts.AfterRead(Now, partialFrameLeft: true, parsedAny: false);
        _time.Advance(TimeSpan.FromSeconds(9));
        timeouts.PauseRead();
        _time.Advance(TimeSpan.FromSeconds(30));

        timeouts.ResumeRead(Now);
        _time.Advance(s_readTimeout - s_justUnder);
        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: false));

        _time.Advance(s_justUnder);
        Assert.Equal(ConnectionTimeout.Frame, timeouts.Check(Now, nothingInFlight: false));
    }

    [Fact]
    public void A_frame_left_by_a_read_that_waited_on_the_server_is_timed_from_the_resume_not_the_read()
    {
        var timeouts = New();
        long readAt = Now;
        timeouts.PauseRead(); // The batch read at readAt waits on the ring, the pool or the budget...
        _time.Advance(TimeSpan.FromSeconds(30));
        timeouts.ResumeRead(Now);

        timeouts.AfterRead(readAt, partialFrameLeft: true, parsedAny: true); // ...and ends in a partial frame.

        _time.Advance(s_readTimeout - s_justUnder);
        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: false));
        _time.Advance(s_justUnder);
        Assert.Equal(ConnectionTimeout.Frame, timeouts.Check(Now, nothingInFlight: false));
    }

    [Fact]
    public void Resuming_with_no_frame_in_progress_starts_no_read_timeout()
    {
        var timeouts = New();
        timeouts.PauseRead();

        timeouts.ResumeRead(Now);
        _time.Advance(s_readTimeout * 3);

        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: false));
    }

    [Fact]
    public void A_flush_the_client_does_not_take_within_the_write_timeout_is_a_write_timeout()
    {
        var timeouts = New();
        timeouts.FlushStarted(Now);

        _time.Advance(s_writeTimeout - s_justUnder);
        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: false));

        _time.Advance(s_justUnder);
        Assert.Equal(ConnectionTimeout.Write, timeouts.Check(Now, nothingInFlight: false));
    }

    [Fact]
    public void A_flush_that_completes_in_time_clears_the_write_timeout()
    {
        var timeouts = New();
        timeouts.FlushStarted(Now);
        _time.Advance(s_writeTimeout - TimeSpan.FromSeconds(1));

        timeouts.FlushCompleted(Now);
        _time.Advance(s_writeTimeout * 3);

        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: false));
    }

    [Fact]
    public void The_write_timeout_runs_while_the_read_is_paused_and_outranks_a_late_frame()
    {
        var timeouts = New();
        timeouts.AfterRead(Now, partialFrameLeft: true, parsedAny: false);
        timeouts.FlushStarted(Now);
        timeouts.PauseRead();
        _time.Advance(s_writeTimeout);
        Assert.Equal(ConnectionTimeout.Write, timeouts.Check(Now, nothingInFlight: false));

        // Once reading again, the frame becomes late too: the stuck flush is still what is reported.
        timeouts.ResumeRead(Now);
        _time.Advance(s_readTimeout);
        Assert.Equal(ConnectionTimeout.Write, timeouts.Check(Now, nothingInFlight: false));
    }

    [Fact]
    public void Without_a_max_connection_age_a_busy_connection_never_ages_out()
    {
        var timeouts = New();

        _time.Advance(TimeSpan.FromDays(400));

        Assert.Equal(ConnectionTimeout.None, timeouts.Check(Now, nothingInFlight: false));
    }

    [Fact]
    public void A_connection_ages_out_after_the_max_age_plus_at_most_a_tenth_of_it_as_jitter()
    {
        var maxAge = TimeSpan.FromMinutes(10);
        var options = new FrameServerOptions { MaxConnectionAge = maxAge };
        ConnectionTimeouts[] connections = [.. Enumerable.Range(0, 100).Select(_ => New(options))];

        _time.Advance(maxAge - s_justUnder);
        Assert.All(connections, c => Assert.Equal(ConnectionTimeout.None, c.Check(Now, nothingInFlight: false)));

        _time.Advance(maxAge / 10 + s_justUnder);
        Assert.All(connections, c => Assert.Equal(ConnectionTimeout.MaxAge, c.Check(Now, nothingInFlight: false)));
    }

    [Fact]
    public void A_late_frame_outranks_the_max_age_so_the_client_learns_why()
    {
        var timeouts = New(new FrameServerOptions { ReadTimeout = s_readTimeout, MaxConnectionAge = TimeSpan.FromSeconds(5) });
        timeouts.AfterRead(Now, partialFrameLeft: true, parsedAny: false);

        _time.Advance(s_readTimeout);

        Assert.Equal(ConnectionTimeout.Frame, timeouts.Check(Now, nothingInFlight: false));
    }

    // It failed before the fix: the read loop stamped the partial frame ending a batch with the timestamp from before
    // its wait on the server's own limits, so a wait longer than ReadTimeout got the client FrameTimeout.
    [Fact]
    public async Task A_frame_started_in_a_read_that_waited_on_the_server_gets_its_whole_read_timeout()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstCall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ReadCountingTransport transport = null!;
        await using var connection = new InMemoryConnection(
            transport: inner => transport = new ReadCountingTransport(inner),
            services: services =>
            {
                DelegateFrameHandler.Use(async (frame, _) =>
                {
                    if (firstCall.TrySetResult())
                    {
                        await gate.Task;
                    }

                    await DelegateFrameHandler.Echo(frame);
                })(services);
                services.Configure<FrameServerOptions>(options => options.MaxInFlightPerConnection = 1);
            });
        byte[] third = "0123456789"u8.ToArray();

        // One read: two whole frames and the start of a third. The ring holds one answer, so the read loop waits
        // for the first answer before it takes the second frame, with the third's header already in hand.
        await connection.ToServer.WriteAsync((byte[])[.. FrameTestClient.Encode("a"u8), .. FrameTestClient.Encode("b"u8), .. Header(third.Length), .. third[..2]]);
        await firstCall.Task.WaitAsync(s_hangGuard);
        connection.Time.Advance(TimeSpan.FromSeconds(30)); // The handler is slow, not the client: the read deadline is paused.
        gate.SetResult();
        await transport.WhenReadAsync(2).WaitAsync(s_hangGuard); // The batch is done and stamped; the loop reads again.

        connection.Time.Advance(FrameHeartbeat.Interval);
        await connection.ToServer.WriteAsync(third.AsMemory(2));

        Stream fromServer = connection.FromServer.AsStream();
        Assert.Equal("a", await ReadFrameAsync(fromServer));
        Assert.Equal("b", await ReadFrameAsync(fromServer));
        Assert.Equal("0123456789", await ReadFrameAsync(fromServer));
    }

    private ConnectionTimeouts New(FrameServerOptions? options = null) =>
        new(options ?? new FrameServerOptions { ReadTimeout = s_readTimeout, IdleTimeout = s_idleTimeout, WriteTimeout = s_writeTimeout }, _time, Now);

    private static byte[] Header(int length)
    {
        var header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)length);
        return header;
    }

    /// <summary>The next frame's payload as text, or the status it is.</summary>
    private static async Task<string> ReadFrameAsync(Stream fromServer)
    {
        var header = new byte[FrameHeader.Size];
        await fromServer.ReadExactlyAsync(header).AsTask().WaitAsync(s_hangGuard);
        uint raw = BinaryPrimitives.ReadUInt32BigEndian(header);
        var payload = new byte[raw & ~FrameHeader.StatusFlag];
        await fromServer.ReadExactlyAsync(payload).AsTask().WaitAsync(s_hangGuard);
        var frame = new Frame((raw & FrameHeader.StatusFlag) != 0, payload);
        return frame.IsStatus ? frame.ToString() : System.Text.Encoding.UTF8.GetString(payload);
    }
}
