using System.Buffers;
using System.Net;
using KestrelFrames.Testing;

namespace KestrelFrames.Tests.Testing;

public sealed class TestFrameContextTests
{
    [Fact]
    public async Task A_handler_that_echoes_answers_with_the_request()
    {
        var frame = new TestFrameContext("ping"u8.ToArray());

        await new EchoFrameHandler().HandleAsync(frame, CancellationToken.None);

        Assert.True(frame.RespondedWithRequest);
        Assert.Equal("ping"u8.ToArray(), frame.Answer.ToArray());
    }

    [Fact]
    public void What_a_handler_writes_is_the_answer_and_the_next_request_starts_from_nothing()
    {
        using var connection = new TestFrameConnectionInfo("connection-7", new IPEndPoint(IPAddress.Parse("192.0.2.10"), 4242));
        var frame = new TestFrameContext("a"u8.ToArray(), connection);
        frame.Response.Write("first"u8);
        Assert.Equal("first"u8.ToArray(), frame.Answer.ToArray());

        frame.NextRequest("b"u8.ToArray());

        Assert.Equal("b"u8.ToArray(), frame.Request.ToArray());
        Assert.True(frame.Answer.IsEmpty);
        Assert.Equal("connection-7", frame.ConnectionId);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 4242), frame.RemoteEndPoint);
    }

    [Fact]
    public void Like_the_server_it_refuses_mixing_a_written_answer_with_the_request_as_answer()
    {
        var written = new TestFrameContext("x"u8.ToArray());
        written.Response.Write("y"u8);
        var echoed = new TestFrameContext("x"u8.ToArray());
        echoed.RespondWithRequest();

        Assert.Throws<InvalidOperationException>(written.RespondWithRequest);
        Assert.Throws<InvalidOperationException>(() => echoed.Response);
    }

    [Fact]
    public void Contexts_on_one_test_connection_share_its_items_and_its_abort()
    {
        using var connection = new TestFrameConnectionInfo();
        var first = new TestFrameContext("1"u8.ToArray(), connection);
        var second = new TestFrameContext("2"u8.ToArray(), connection);

        first.Connection.Items["session"] = "s";
        connection.Abort();

        Assert.Equal("s", second.Connection.Items["session"]);
        Assert.True(second.Connection.Aborted.IsCancellationRequested);
        Assert.Equal("test-connection", new TestFrameContext().ConnectionId);
    }

    [Fact]
    public void A_close_the_handler_requests_is_recorded_on_the_test_connection()
    {
        using var connection = new TestFrameConnectionInfo();
        var context = new TestFrameContext("bye"u8.ToArray(), connection);
        Assert.False(connection.CloseRequested);

        context.Connection.RequestClose();

        Assert.True(connection.CloseRequested);
    }
}
