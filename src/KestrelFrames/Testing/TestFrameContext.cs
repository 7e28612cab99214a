using System.Buffers;
using System.Net;

namespace KestrelFrames.Testing;

/// <summary>
/// A request as the server hands it to an <see cref="IFrameHandler"/>, without a server: for unit tests of a handler.
/// Its <see cref="Connection"/> is a <see cref="TestFrameConnectionInfo"/> unless one is given.
/// Call the handler with it, then read <see cref="Answer"/>. Like the server's, it refuses a write to
/// <see cref="Response"/> once <see cref="RespondWithRequest"/> was called, and that call once something was written.
/// </summary>
/// <example>
/// <code>
/// var frame = new TestFrameContext("hello"u8.ToArray());
/// await new MyHandler().HandleAsync(frame, CancellationToken.None);
/// Assert.Equal("HELLO"u8.ToArray(), frame.Answer.ToArray());
/// </code>
/// </example>
public sealed class TestFrameContext : FrameContext
{
    private readonly ArrayBufferWriter<byte> _response = new();
    private ReadOnlyMemory<byte> _request;

    /// <summary>A request with <paramref name="request"/> as its payload, on a plain connection <paramref name="connectionId"/> from 127.0.0.1.</summary>
    public TestFrameContext(ReadOnlyMemory<byte> request = default, string connectionId = "test-connection")
        : this(request, new TestFrameConnectionInfo(connectionId))
    {
    }

    /// <summary>
    /// A request on <paramref name="connection"/>: one <see cref="TestFrameConnectionInfo"/> shared by several
    /// contexts is one connection's requests (its <see cref="FrameConnectionInfo.Items"/> shared too).
    /// </summary>
    public TestFrameContext(ReadOnlyMemory<byte> request, FrameConnectionInfo connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _request = request;
        Connection = connection;
    }

    /// <inheritdoc />
    public override ReadOnlyMemory<byte> Request => _request;

    /// <inheritdoc />
    public override IBufferWriter<byte> Response => RespondedWithRequest
        ? throw new InvalidOperationException("The answer is the request itself (RespondWithRequest): nothing more can be written.")
        : _response;

    /// <inheritdoc />
    public override FrameConnectionInfo Connection { get; }

    /// <inheritdoc />
    public override string ConnectionId => Connection.Id;

    /// <inheritdoc />
    public override EndPoint? RemoteEndPoint => Connection.RemoteEndPoint;

    /// <summary>Whether the handler answered with the request itself.</summary>
    public bool RespondedWithRequest { get; private set; }

    /// <summary>The answer's payload: what the handler wrote to <see cref="Response"/>, or the request after <see cref="RespondWithRequest"/>.</summary>
    public ReadOnlyMemory<byte> Answer => RespondedWithRequest ? _request : _response.WrittenMemory;

    /// <inheritdoc />
    public override void RespondWithRequest()
    {
        if (_response.WrittenCount > 0)
        {
            throw new InvalidOperationException("Part of the answer was already written to Response.");
        }

        RespondedWithRequest = true;
    }

    /// <summary>
    /// The connection's next request in this same instance, as the server reuses its context: the answer so far is
    /// forgotten. A handler that kept the context, or its buffers, past its call sees them change.
    /// </summary>
    public void NextRequest(ReadOnlyMemory<byte> request)
    {
        _request = request;
        _response.ResetWrittenCount();
        RespondedWithRequest = false;
    }
}
