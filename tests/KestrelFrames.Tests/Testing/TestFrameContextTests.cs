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
        var frame = new TestFrameContext("a"u8.ToArray(), "connection-7", new IPEndPoint(IPAddress.Parse("192.0.2.10"), 4242));
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
}
