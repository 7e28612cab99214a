using System.Text;
using KestrelFrames.Client;
using KeyValue.Client;
using KeyValue.Protocol;
using KeyValue.Server;
using Microsoft.Extensions.DependencyInjection;

namespace KeyValue.Tests;

/// <summary>End to end: the sample server on real sockets, driven by the sample client.</summary>
public sealed class KeyValueServerTests
{
    // Only a bound on a failing test: every wait below ends on an event, long before this.
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task GET_SET_and_DELETE_go_round_trip_with_versions()
    {
        await using var server = KeyValueTestServer.Start();
        await using KeyValueClient client = await server.ConnectAsync();

        Assert.Null(await client.GetAsync("greeting"));

        KeyValueWriteResult first = await client.SetAsync("greeting", "hello"u8.ToArray());
        KeyValueWriteResult second = await client.SetAsync("greeting", "hello again"u8.ToArray());
        Assert.True(first.Succeeded && second.Succeeded);
        Assert.True(second.Version > first.Version);

        VersionedValue? found = await client.GetAsync("greeting");
        Assert.NotNull(found);
        Assert.Equal(("hello again", second.Version), (Encoding.UTF8.GetString(found.Value.Span), found.Version));

        Assert.Equal(new KeyValueWriteResult(KeyValueStatus.Ok, second.Version), await client.DeleteAsync("greeting"));
        Assert.Null(await client.GetAsync("greeting"));
        Assert.Equal(new KeyValueWriteResult(KeyValueStatus.NotFound, 0), await client.DeleteAsync("greeting"));
    }

    [Fact]
    public async Task Of_two_clients_updating_from_the_same_version_the_second_gets_a_conflict_and_retries()
    {
        await using var server = KeyValueTestServer.Start();
        await using KeyValueClient alice = await server.ConnectAsync();
        await using KeyValueClient bob = await server.ConnectAsync();
        long read = (await alice.SetAsync("counter", "1"u8.ToArray())).Version;

        KeyValueWriteResult alices = await alice.SetAsync("counter", "2"u8.ToArray(), expectedVersion: read);
        KeyValueWriteResult bobs = await bob.SetAsync("counter", "2"u8.ToArray(), expectedVersion: read);

        Assert.True(alices.Succeeded);
        Assert.Equal(new KeyValueWriteResult(KeyValueStatus.VersionMismatch, alices.Version), bobs);

        // Bob reads again and retries from what he read.
        VersionedValue? current = await bob.GetAsync("counter");
        Assert.NotNull(current);
        KeyValueWriteResult retried = await bob.SetAsync("counter", "3"u8.ToArray(), expectedVersion: current.Version);
        Assert.True(retried.Succeeded);
        Assert.Equal(new KeyValueWriteResult(KeyValueStatus.VersionMismatch, retried.Version), await alice.DeleteAsync("counter", alices.Version));
        Assert.Equal("3", await TextAsync(alice, "counter"));
    }

    [Fact]
    public async Task A_malformed_request_gets_an_error_answer_and_the_connection_stays_usable()
    {
        await using var server = KeyValueTestServer.Start();
        await using KeyValueClient client = await server.ConnectAsync();

        // Past the client, on the same connection: a GET whose key length promises more bytes than follow.
        FrameResponse raw = await client.Frames.SendAsync(new byte[] { 0x01, 0x00, 0x09, (byte)'k' });

        // A key-value error inside an ordinary answer, not KestrelFrames' HandlerError status.
        Assert.Equal(FrameResponseStatus.Ok, raw.Status);
        Assert.True(KeyValueResponse.TryParse(raw.Payload.Span, out KeyValueResponse answer));
        Assert.Equal(KeyValueStatus.BadRequest, answer.Status);
        Assert.Equal("truncated: key shorter than its length", Encoding.UTF8.GetString(answer.Body));

        // The same connection goes on serving.
        Assert.True((await client.SetAsync("k", "v"u8.ToArray())).Succeeded);
        Assert.Equal("v", await TextAsync(client, "k"));
        Assert.Equal(4, await client.GetSessionRequestCountAsync());
        Assert.Equal(0, client.Frames.Reconnects);
    }

    [Fact]
    public async Task Each_connection_counts_its_own_requests()
    {
        await using var server = KeyValueTestServer.Start();
        await using KeyValueClient first = await server.ConnectAsync();
        await using KeyValueClient second = await server.ConnectAsync();

        await first.SetAsync("k", "v"u8.ToArray());
        await first.GetAsync("k");
        await first.Frames.PingAsync(); // A heartbeat never reaches the handler: not a request.
        await second.GetAsync("k");

        Assert.Equal(3, await first.GetSessionRequestCountAsync());
        Assert.Equal(2, await second.GetSessionRequestCountAsync());
        Assert.Equal(4, await first.GetSessionRequestCountAsync());
    }

    [Fact]
    public async Task Pipelined_requests_from_many_callers_on_one_connection_are_all_counted_and_versioned()
    {
        const int Callers = 200;
        await using var server = KeyValueTestServer.Start();
        await using KeyValueClient client = await server.ConnectAsync();

        // Sent without waiting for each other: KestrelFrames runs them on several workers at once.
        KeyValueWriteResult[] writes = await Task.WhenAll(Enumerable.Range(0, Callers).Select(i =>
            client.SetAsync($"key-{i}", Encoding.UTF8.GetBytes($"value-{i}")).AsTask()));

        Assert.All(writes, w => Assert.True(w.Succeeded));
        Assert.Equal(Callers, writes.Select(w => w.Version).Distinct().Count());
        Assert.Equal(Callers + 1, await client.GetSessionRequestCountAsync());
        Assert.Equal("value-199", await TextAsync(client, "key-199"));
    }

    [Fact]
    public async Task A_session_ends_when_its_connection_closes()
    {
        await using var server = KeyValueTestServer.Start();
        var sessions = server.Services.GetRequiredService<KeyValueSessions>();
        var ended = new TaskCompletionSource<KeyValueSession>(TaskCreationOptions.RunContinuationsAsynchronously);
        sessions.SessionEnded += (_, session) => ended.TrySetResult(session);

        KeyValueClient client = await server.ConnectAsync();
        await client.SetAsync("k", "v"u8.ToArray());
        await client.GetAsync("k");
        Assert.Equal(1, sessions.Count);
        await client.DisposeAsync();

        KeyValueSession session = await ended.Task.WaitAsync(s_patience);
        Assert.Equal(2, session.Requests);
        Assert.Equal(0, sessions.Count);
    }

    private static async Task<string> TextAsync(KeyValueClient client, string key)
    {
        VersionedValue? found = await client.GetAsync(key);
        Assert.NotNull(found);
        return Encoding.UTF8.GetString(found.Value.Span);
    }
}
