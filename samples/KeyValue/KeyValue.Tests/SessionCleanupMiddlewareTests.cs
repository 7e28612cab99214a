using KeyValue.Server;
using Microsoft.AspNetCore.Connections;

namespace KeyValue.Tests;

public sealed class SessionCleanupMiddlewareTests
{
    [Fact]
    public async Task A_session_ends_when_its_connection_does_even_if_the_connection_failed()
    {
        var sessions = new KeyValueSessions();
        var ended = new List<KeyValueSession>();
        sessions.SessionEnded += (_, session) => ended.Add(session);
        var middleware = new SessionCleanupMiddleware(
            connection =>
            {
                sessions.GetOrStart(connection.ConnectionId).CountRequest();
                throw new ConnectionResetException("the client went away");
            },
            sessions);

        await Assert.ThrowsAsync<ConnectionResetException>(() => middleware.OnConnectionAsync(new DefaultConnectionContext("c1")));

        Assert.Equal(0, sessions.Count);
        KeyValueSession session = Assert.Single(ended);
        Assert.Equal(("c1", 1L), (session.ConnectionId, session.Requests));
    }

    [Fact]
    public async Task A_connection_without_a_session_ends_without_one()
    {
        var sessions = new KeyValueSessions();
        int ended = 0;
        sessions.SessionEnded += (_, _) => ended++;
        var middleware = new SessionCleanupMiddleware(_ => Task.CompletedTask, sessions);

        await middleware.OnConnectionAsync(new DefaultConnectionContext("http-connection"));

        Assert.Equal(0, ended);
    }
}
