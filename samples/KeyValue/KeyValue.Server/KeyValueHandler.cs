using System.Buffers;
using System.Text;
using KestrelFrames;
using KeyValue.Protocol;

namespace KeyValue.Server;

/// <summary>
/// The key-value protocol on KestrelFrames: each request frame is parsed, run against the <see cref="KeyValueStore"/>
/// and answered with exactly one frame. KestrelFrames runs many of these calls at once (several connections, and a
/// connection's pipelined requests), so everything here is thread-safe; it keeps answers in request order by itself.
/// As an <see cref="IFrameConnectionLifecycle"/>, it opens a <see cref="KeyValueSession"/> when a connection is ready
/// and ends it when the connection ends.
/// </summary>
public sealed class KeyValueHandler(KeyValueStore store, KeyValueSessions sessions) : IFrameHandler, IFrameConnectionLifecycle
{
    // The key of the session in each connection's Items: a private object, so nothing else can collide with it.
    private static readonly object s_sessionKey = new();

    /// <inheritdoc />
    public ValueTask OnConnectedAsync(FrameConnectionInfo connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.Items[s_sessionKey] = sessions.Start(connection.Id);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask HandleAsync(FrameContext frame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(frame);
        long requests = ((KeyValueSession)frame.Connection.Items[s_sessionKey]!).CountRequest();
        Handle(frame.Request.Span, frame.Response, requests);

        // All in memory, nothing to await: a completed ValueTask costs no allocation and no state machine.
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask OnClosingAsync(FrameConnectionInfo connection, FrameCloseReason reason)
    {
        ArgumentNullException.ThrowIfNull(connection);
        sessions.End((KeyValueSession)connection.Items[s_sessionKey]!);
        return ValueTask.CompletedTask;
    }

    private void Handle(ReadOnlySpan<byte> payload, IBufferWriter<byte> output, long requests)
    {
        KeyValueStatus parsed = KeyValueRequest.Parse(payload, out KeyValueRequest request, out string error);
        if (parsed != KeyValueStatus.Ok)
        {
            // The client's mistake gets an answer that says what is wrong, and the connection stays usable. Throwing
            // would answer with KestrelFrames' HandlerError status, which tells the client nothing.
            KeyValueCodec.WriteError(output, parsed, error);
            return;
        }

        if (request.Opcode == KeyValueOpcode.Stats)
        {
            KeyValueCodec.WriteStats(output, requests);
            return;
        }

        // The parser checked that the key is valid UTF-8 of at most MaxKeyLength bytes: as many UTF-16 chars hold it.
        Span<char> key = stackalloc char[KeyValueCodec.MaxKeyLength];
        key = key[..Encoding.UTF8.GetChars(request.Key, key)];
        switch (request.Opcode)
        {
            case KeyValueOpcode.Get when store.TryGet(key, out VersionedValue? found):
                KeyValueCodec.WriteResponse(output, KeyValueStatus.Ok, found.Version, found.Value.Span);
                break;
            case KeyValueOpcode.Get:
                KeyValueCodec.WriteResponse(output, KeyValueStatus.NotFound, 0, default);
                break;
            case KeyValueOpcode.Set:
                Write(output, store.Set(key, request.Value, request.ExpectedVersion));
                break;
            default:
                Write(output, store.Delete(key, request.ExpectedVersion));
                break;
        }
    }

    private static void Write(IBufferWriter<byte> output, KeyValueWriteResult result) =>
        KeyValueCodec.WriteResponse(output, result.Status, result.Version, default);
}
