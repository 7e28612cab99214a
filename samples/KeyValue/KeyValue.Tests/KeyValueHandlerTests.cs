using KestrelFrames.Testing;
using KeyValue.Protocol;
using KeyValue.Server;

namespace KeyValue.Tests;

public sealed class KeyValueHandlerTests
{
    private readonly KeyValueStore _store = new();
    private readonly KeyValueSessions _sessions = new();
    private readonly Dictionary<string, TestFrameConnectionInfo> _connections = [];
    private readonly KeyValueHandler _handler;

    public KeyValueHandlerTests() => _handler = new KeyValueHandler(_store, _sessions);

    [Fact]
    public async Task A_GET_of_a_missing_key_answers_not_found()
    {
        TestFrameContext frame = await HandleAsync(Requests.Get("missing"));

        Assert.Equal((KeyValueStatus.NotFound, 0L, ""), frame.Parsed());
    }

    [Fact]
    public async Task A_SET_answers_the_new_version_and_a_GET_the_value_at_that_version()
    {
        (KeyValueStatus status, long version, string body) = (await HandleAsync(Requests.Set("k", "hello"u8))).Parsed();
        Assert.Equal(KeyValueStatus.Ok, status);
        Assert.True(version > 0);
        Assert.Empty(body);

        Assert.Equal((KeyValueStatus.Ok, version, "hello"), (await HandleAsync(Requests.Get("k"))).Parsed());
    }

    [Fact]
    public async Task A_key_is_looked_up_by_its_text_whatever_the_script()
    {
        await HandleAsync(Requests.Set("ключ-🔑", "v"u8));

        Assert.True(_store.TryGet("ключ-🔑", out _));
        Assert.Equal(KeyValueStatus.Ok, (await HandleAsync(Requests.Get("ключ-🔑"))).Parsed().Status);
    }

    [Fact]
    public async Task A_compare_and_set_at_a_stale_version_answers_the_current_one_and_writes_nothing()
    {
        long first = (await HandleAsync(Requests.Set("k", "v1"u8))).Parsed().Version;
        long second = (await HandleAsync(Requests.Set("k", "v2"u8, expectedVersion: first))).Parsed().Version;

        Assert.Equal((KeyValueStatus.VersionMismatch, second, ""), (await HandleAsync(Requests.Set("k", "v3"u8, expectedVersion: first))).Parsed());
        Assert.Equal("v2", (await HandleAsync(Requests.Get("k"))).Parsed().Body);
    }

    [Fact]
    public async Task A_DELETE_answers_the_version_removed_then_not_found()
    {
        long version = (await HandleAsync(Requests.Set("k", "v"u8))).Parsed().Version;

        Assert.Equal((KeyValueStatus.Ok, version, ""), (await HandleAsync(Requests.Delete("k"))).Parsed());
        Assert.Equal((KeyValueStatus.NotFound, 0L, ""), (await HandleAsync(Requests.Delete("k"))).Parsed());
    }

    [Theory]
    [InlineData(new byte[] { 0x01, 0x00 }, KeyValueStatus.BadRequest, "truncated: no key length")]
    [InlineData(new byte[] { 0x7F }, KeyValueStatus.UnknownOpcode, "unknown opcode")]
    [InlineData(new byte[] { 0x02, 0x00, 0x01, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0 }, KeyValueStatus.BadRequest, "key is not valid UTF-8")]
    public async Task A_malformed_request_is_answered_with_an_error_and_a_reason_never_an_exception(byte[] request, KeyValueStatus status, string reason)
    {
        // An exception would become KestrelFrames' HandlerError status: the client would not learn what was wrong.
        TestFrameContext frame = await HandleAsync(request);

        Assert.Equal((status, 0L, reason), frame.Parsed());
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task STATS_answers_the_connections_own_request_count_bad_requests_included()
    {
        await HandleAsync(Requests.Set("k", "v"u8), "a");
        await HandleAsync(Requests.Get("k"), "a");
        await HandleAsync([0x7F], "a");
        await HandleAsync(Requests.Get("k"), "b");

        Assert.Equal(4, (await HandleAsync(Requests.Stats(), "a")).RequestCount());
        Assert.Equal(2, (await HandleAsync(Requests.Stats(), "b")).RequestCount());
        Assert.Equal(1, (await HandleAsync(Requests.Stats(), "c")).RequestCount());
        Assert.Equal(3, _sessions.Count);
    }

    [Fact]
    public async Task Closing_a_connection_ends_its_session_with_its_count()
    {
        var ended = new List<KeyValueSession>();
        _sessions.SessionEnded += (_, session) => ended.Add(session);
        await HandleAsync(Requests.Get("k"), "a");
        await HandleAsync(Requests.Get("k"), "a");

        await _handler.OnClosingAsync(await ConnectionAsync("a"), KestrelFrames.FrameCloseReason.ClientClosed);

        KeyValueSession session = Assert.Single(ended);
        Assert.Equal(("a", 2L), (session.ConnectionId, session.Requests));
        Assert.Equal(0, _sessions.Count);
    }

    [Fact]
    public async Task A_GET_of_a_stored_key_allocates_nothing()
    {
        await HandleAsync(Requests.Set("k", "a value of some length"u8));
        var frame = new TestFrameContext(Requests.Get("k"), await ConnectionAsync("connection-1"));

        // Warm-up: the session exists, the answer's buffer has grown, every method has been compiled.
        for (int i = 0; i < 100; i++)
        {
            Handle(frame);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++)
        {
            Handle(frame);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal((KeyValueStatus.Ok, "a value of some length"), (frame.Parsed().Status, frame.Parsed().Body));

        // Synchronously, on this thread, which the allocation counter measures: the handler never awaits anything.
        void Handle(TestFrameContext context)
        {
            context.NextRequest(context.Request); // the same request again, the answer so far forgotten
            ValueTask handled = _handler.HandleAsync(context, CancellationToken.None);
            handled.GetAwaiter().GetResult();
        }
    }

    private async Task<TestFrameContext> HandleAsync(byte[] request, string connectionId = "connection-1")
    {
        var frame = new TestFrameContext(request, await ConnectionAsync(connectionId));
        await _handler.HandleAsync(frame, CancellationToken.None);
        return frame;
    }

    /// <summary>The connection of that id, connected (its session opened) the first time it is asked for.</summary>
    private async Task<TestFrameConnectionInfo> ConnectionAsync(string id)
    {
        if (!_connections.TryGetValue(id, out TestFrameConnectionInfo? connection))
        {
            connection = new TestFrameConnectionInfo(id);
            _connections[id] = connection;
            await _handler.OnConnectedAsync(connection, CancellationToken.None);
        }

        return connection;
    }
}
