using System.Buffers;
using System.Net;
using System.Text;
using KestrelFrames;
using KeyValue.Protocol;

namespace KeyValue.Tests;

/// <summary>
/// A request as KestrelFrames hands it to a handler, without a server: <see cref="FrameContext"/> is an abstract
/// class of the public API, so a handler can be unit-tested with one of these.
/// </summary>
internal sealed class TestFrameContext(byte[] request, string connectionId = "connection-1") : FrameContext
{
    private readonly ArrayBufferWriter<byte> _response = new();

    public override ReadOnlyMemory<byte> Request => request;

    public override IBufferWriter<byte> Response => _response;

    public override FrameConnectionInfo Connection => throw new NotSupportedException("The key-value handler keys its sessions by connection id.");

    public override string ConnectionId => connectionId;

    public override EndPoint? RemoteEndPoint => new IPEndPoint(IPAddress.Loopback, 50_000);

    public override void RespondWithRequest() => throw new NotSupportedException("The key-value handler never echoes.");

    /// <summary>Forgets the answer, keeping its buffer, so the same context can carry the request again.</summary>
    public void ClearAnswer() => _response.ResetWrittenCount();

    /// <summary>The answer's status, version and body; the body as text, which the tests' values and reasons are.</summary>
    public (KeyValueStatus Status, long Version, string Body) Parsed()
    {
        KeyValueResponse response = ParseAnswer();
        return (response.Status, response.Version, Encoding.UTF8.GetString(response.Body));
    }

    /// <summary>The answer to a STATS request: its request count.</summary>
    public long RequestCount()
    {
        KeyValueResponse response = ParseAnswer();
        Assert.Equal(KeyValueStatus.Ok, response.Status);
        Assert.True(KeyValueCodec.TryReadStats(response.Body, out long requests));
        return requests;
    }

    private KeyValueResponse ParseAnswer()
    {
        Assert.True(KeyValueResponse.TryParse(_response.WrittenSpan, out KeyValueResponse response), "not a key-value answer");
        return response;
    }
}
