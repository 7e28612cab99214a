using System.Buffers;
using System.Text;
using KestrelFrames.Client;
using KeyValue.Protocol;

namespace KeyValue.Client;

/// <summary>
/// A client of the key-value sample: each call is one request frame on a <see cref="FrameClient"/>, which pipelines
/// concurrent calls over its one connection and matches answers to them. Thread-safe.
/// </summary>
/// <remarks>
/// The key-value outcomes (not found, a lost compare-and-set) are results. A <see cref="KeyValueException"/> means an
/// answer this client cannot have asked for. What the frame layer reports passes through: a Busy or HandlerError
/// status is a <see cref="FrameResponseException"/>, a closed connection a <see cref="FrameConnectionClosedException"/>.
/// </remarks>
/// <param name="frames">The connection; the client owns it from now on and disposes of it.</param>
public sealed class KeyValueClient(FrameClient frames) : IAsyncDisposable
{
    /// <summary>The frame connection underneath, for heartbeats (<see cref="FrameClient.PingAsync"/>) or raw requests.</summary>
    public FrameClient Frames { get; } = frames ?? throw new ArgumentNullException(nameof(frames));

    /// <summary>Connects to a key-value server (its Frames endpoint; the sample listens on 127.0.0.1:9010).</summary>
    public static async ValueTask<KeyValueClient> ConnectAsync(string host, int port, FrameClientOptions? options = null, CancellationToken cancellationToken = default) =>
        new(await FrameClient.ConnectAsync(host, port, options, cancellationToken));

    /// <summary>Reads a key: its value and version, or null when it does not exist.</summary>
    public async ValueTask<VersionedValue?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ReadOnlyMemory<byte> answer = await SendAsync(KeyValueOpcode.Get, key, KeyValueCodec.AnyVersion, default, cancellationToken);
        KeyValueResponse response = Parse(answer.Span);
        return response.Status switch
        {
            // The answer's memory is the client's own copy: the value is a slice of it, not another copy.
            KeyValueStatus.Ok => new VersionedValue(answer[KeyValueCodec.ResponseHeaderLength..], response.Version),
            KeyValueStatus.NotFound => null,
            _ => throw Unexpected(response),
        };
    }

    /// <summary>
    /// Writes a key and returns the new version. With <paramref name="expectedVersion"/>, a compare-and-set: the write
    /// happens only if the key exists at that version, and otherwise the result is
    /// <see cref="KeyValueStatus.VersionMismatch"/> with the key's current version (0 when it does not exist).
    /// </summary>
    public async ValueTask<KeyValueWriteResult> SetAsync(string key, ReadOnlyMemory<byte> value, long expectedVersion = KeyValueCodec.AnyVersion, CancellationToken cancellationToken = default)
    {
        ReadOnlyMemory<byte> answer = await SendAsync(KeyValueOpcode.Set, key, expectedVersion, value, cancellationToken);
        return WriteResult(Parse(answer.Span), KeyValueStatus.Ok, KeyValueStatus.VersionMismatch);
    }

    /// <summary>
    /// Removes a key: <see cref="KeyValueStatus.Ok"/> with the version it had, or <see cref="KeyValueStatus.NotFound"/>.
    /// With <paramref name="expectedVersion"/>, only if it is at that version (else <see cref="KeyValueStatus.VersionMismatch"/>).
    /// </summary>
    public async ValueTask<KeyValueWriteResult> DeleteAsync(string key, long expectedVersion = KeyValueCodec.AnyVersion, CancellationToken cancellationToken = default)
    {
        ReadOnlyMemory<byte> answer = await SendAsync(KeyValueOpcode.Delete, key, expectedVersion, default, cancellationToken);
        return WriteResult(Parse(answer.Span), KeyValueStatus.Ok, KeyValueStatus.NotFound, KeyValueStatus.VersionMismatch);
    }

    /// <summary>
    /// The number of requests this connection has sent, this one included: the server counts them in the connection's
    /// session. A new connection (after a reconnect too) starts a new session.
    /// </summary>
    public async ValueTask<long> GetSessionRequestCountAsync(CancellationToken cancellationToken = default)
    {
        ReadOnlyMemory<byte> answer = await SendAsync(KeyValueOpcode.Stats, "", KeyValueCodec.AnyVersion, default, cancellationToken);
        KeyValueResponse response = Parse(answer.Span);
        if (response.Status != KeyValueStatus.Ok)
        {
            throw Unexpected(response);
        }

        return KeyValueCodec.TryReadStats(response.Body, out long requests)
            ? requests
            : throw new KeyValueException("The server's STATS answer does not hold a request count.");
    }

    /// <summary>Closes the connection; calls still waiting fail (see <see cref="FrameClient.DisposeAsync"/>).</summary>
    public ValueTask DisposeAsync() => Frames.DisposeAsync();

    private async ValueTask<ReadOnlyMemory<byte>> SendAsync(KeyValueOpcode opcode, string key, long expectedVersion, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] request = ArrayPool<byte>.Shared.Rent(KeyValueCodec.GetRequestLength(opcode, key, value.Length));
        try
        {
            int length = KeyValueCodec.WriteRequest(request, opcode, key, expectedVersion, value.Span);

            // FrameClient copies the bytes into its connection and is done with them once SendAsync completes, however
            // it completes (cancelled too): then the buffer can go back to the pool.
            FrameResponse response = await Frames.SendAsync(request.AsMemory(0, length), cancellationToken);
            return response.EnsureOk();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(request);
        }
    }

    private static KeyValueResponse Parse(ReadOnlySpan<byte> answer) =>
        KeyValueResponse.TryParse(answer, out KeyValueResponse response)
            ? response
            : throw new KeyValueException($"The server's answer ({answer.Length} bytes) is not a key-value answer.");

    private static KeyValueWriteResult WriteResult(KeyValueResponse response, params ReadOnlySpan<KeyValueStatus> expected) =>
        expected.Contains(response.Status) ? new KeyValueWriteResult(response.Status, response.Version) : throw Unexpected(response);

    private static KeyValueException Unexpected(KeyValueResponse response)
    {
        string detail = response.Status is KeyValueStatus.BadRequest or KeyValueStatus.UnknownOpcode
            ? $": {Encoding.UTF8.GetString(response.Body)}"
            : "";
        return new KeyValueException($"The server answered {response.Status}{detail}.", response.Status);
    }
}
