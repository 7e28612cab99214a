using System.Buffers;
using System.Diagnostics;
using System.Net;
using KestrelFrames.Client.Internal;
using Polly;

namespace KestrelFrames.Client;

/// <summary>
/// A client of the KestrelFrames protocol: one connection, many concurrent callers. Requests are pipelined (sent
/// without waiting for earlier answers) and answers are matched to them in order, as the protocol requires.
/// </summary>
/// <remarks>
/// <para>All members are thread-safe. Requests queued by concurrent callers are written together and flushed once.
/// A request allocates nothing beyond the copy of its answer that the caller receives, and nothing at all when the
/// caller gives a writer for the answer.</para>
/// <para>A caller that cancels gets an <see cref="OperationCanceledException"/> at once; if its request was already
/// sent, its place in the answer order is kept and its answer is dropped when it comes.</para>
/// <para>Busy and HandlerError answers are results (<see cref="FrameResponse.Status"/>); the end of the connection is
/// a <see cref="FrameConnectionClosedException"/> (a <see cref="FrameShuttingDownException"/> when the server is
/// shutting down), unless <see cref="FrameClientOptions.Reconnect"/> recovers from it.</para>
/// </remarks>
public sealed class FrameClient : IAsyncDisposable
{
    private readonly FrameSession _session;
    private readonly ResiliencePipeline<FrameResponse>? _busyRetry;
    private int _disposed;

    private FrameClient(FrameSession session, ResiliencePipeline<FrameResponse>? busyRetry)
    {
        _session = session;
        _busyRetry = busyRetry;
    }

    /// <summary>How many times the client reconnected after a connection ended (with <see cref="FrameClientOptions.Reconnect"/>).</summary>
    public long Reconnects => _session.Reconnects;

    /// <summary>How many requests were sent again on a new connection because the server never answered them.</summary>
    public long ResentRequests => _session.ResentRequests;

    /// <summary>Test hook: called when a heartbeat the client sent by itself is answered.</summary>
    internal Action? HeartbeatAnswered
    {
        get => _session.HeartbeatAnswered;
        set => _session.HeartbeatAnswered = value;
    }

    /// <summary>
    /// Connects to a KestrelFrames server. The connection is established when the server has answered a first
    /// heartbeat, so a server that refuses it (at its connection limit, or shutting down) fails this call. One attempt
    /// is made, even with <see cref="FrameClientOptions.Reconnect"/> set.
    /// </summary>
    /// <param name="host">A host name or IP address; a name is resolved on every (re)connect.</param>
    /// <param name="port">The server's frames port.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The connected client.</returns>
    /// <exception cref="FrameConnectionClosedException">The server closed the connection with a status, such as <see cref="FrameStatus.ConnectionLimit"/>.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">The connection could not be made.</exception>
    /// <exception cref="TimeoutException">The attempt took longer than <see cref="FrameClientOptions.ConnectTimeout"/>.</exception>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The TLS handshake failed.</exception>
    public static async ValueTask<FrameClient> ConnectAsync(string host, int port, FrameClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        FrameClientOptions settings = (options ?? new FrameClientOptions()).Snapshot();

        // Built before connecting: a configuration error must not leave a connection behind.
        ResiliencePipeline? reconnect = null;
        ResiliencePipeline<FrameResponse>? busyRetry = null;
        if (settings.Reconnect is { } recovery)
        {
            reconnect = FrameResilience.CreateReconnect(recovery, settings.TimeProvider);
            busyRetry = FrameResilience.CreateBusyRetry(recovery, settings.TimeProvider);
        }

        FrameConnection connection = await FrameConnection.ConnectAsync(host, port, settings, cancellationToken);
        return new FrameClient(new FrameSession(host, port, settings, reconnect, connection), busyRetry);
    }

    /// <summary>
    /// Sends one request and returns the server's answer. Safe to call from many threads at once: requests are
    /// pipelined over the one connection and each caller gets the answer to its own request.
    /// </summary>
    /// <param name="payload">
    /// The request's bytes, not empty. The client copies them into the connection's buffer when it writes the
    /// request (and again if it resends it): keep them unchanged until this call completes.
    /// </param>
    /// <param name="cancellationToken">Stops waiting for the answer; see the remarks on <see cref="FrameClient"/>.</param>
    /// <returns>The answer: the handler's payload, or a Busy or HandlerError status.</returns>
    /// <exception cref="FrameConnectionClosedException">The connection ended before the answer, and was not recovered.</exception>
    /// <exception cref="FrameShuttingDownException">The server is shutting down and did not process the request.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed.</exception>
    public ValueTask<FrameResponse> SendAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        CheckSendable(payload);
        return Send(payload, answer: null, cancellationToken);
    }

    /// <summary>
    /// Sends one request as <see cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/> does, but appends the
    /// answer's payload to <paramref name="answer"/> instead of copying it into a new array: with a writer the caller
    /// reuses (an <see cref="ArrayBufferWriter{T}"/> it resets, a pooled one), a request allocates nothing.
    /// </summary>
    /// <param name="payload">The request's bytes, not empty; kept unchanged until this call completes.</param>
    /// <param name="answer">
    /// Receives the answer's payload when the status is <see cref="FrameResponseStatus.Ok"/>, nothing otherwise. The
    /// client writes to it only before this call completes (a cancelled call's writer is left untouched), from its
    /// read loop: give each concurrent call a writer of its own. An exception the writer throws fails this call alone.
    /// </param>
    /// <param name="cancellationToken">Stops waiting for the answer; see the remarks on <see cref="FrameClient"/>.</param>
    /// <returns>How the server answered.</returns>
    /// <exception cref="FrameConnectionClosedException">The connection ended before the answer, and was not recovered.</exception>
    /// <exception cref="FrameShuttingDownException">The server is shutting down and did not process the request.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed.</exception>
    public ValueTask<FrameResponseStatus> SendAsync(ReadOnlyMemory<byte> payload, IBufferWriter<byte> answer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answer);
        CheckSendable(payload);

        // The plain path awaits the pooled request itself; a retry policy or a listener wrap it in a state machine.
        return _busyRetry is null && !ClientInstruments.IsObserved
            ? _session.SendForStatusAsync(payload, answer, cancellationToken)
            : StatusOfAsync(Send(payload, answer, cancellationToken));
    }

    private static async ValueTask<FrameResponseStatus> StatusOfAsync(ValueTask<FrameResponse> sending) => (await sending).Status;

    private ValueTask<FrameResponse> Send(ReadOnlyMemory<byte> payload, IBufferWriter<byte>? answer, CancellationToken cancellationToken) =>
        ClientInstruments.IsObserved ? SendObservedAsync(payload, answer, cancellationToken) : SendCoreAsync(payload, answer, cancellationToken);

    private void CheckSendable(ReadOnlyMemory<byte> payload)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (payload.IsEmpty)
        {
            throw new ArgumentException("A request needs a payload: an empty frame is a heartbeat (see PingAsync).", nameof(payload));
        }
    }

    private ValueTask<FrameResponse> SendCoreAsync(ReadOnlyMemory<byte> payload, IBufferWriter<byte>? answer, CancellationToken cancellationToken)
    {
        if (_busyRetry is null)
        {
            return _session.SendAsync(payload, answer, cancellationToken);
        }

        // A Busy answer wrote nothing to the writer: a retry starts from where the caller left it.
        return _busyRetry.ExecuteAsync(
            static (state, token) => state.Session.SendAsync(state.Payload, state.Answer, token),
            (Session: _session, Payload: payload, Answer: answer),
            cancellationToken);
    }

    // Only when a listener observes the client: the span and the measurements cost an async state machine.
    private async ValueTask<FrameResponse> SendObservedAsync(ReadOnlyMemory<byte> payload, IBufferWriter<byte>? answer, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        Activity? activity = ClientInstruments.StartRequest(_session.Host, _session.Port);
        try
        {
            FrameResponse response = await SendCoreAsync(payload, answer, cancellationToken);
            string outcome = response.Status switch
            {
                FrameResponseStatus.Ok => "ok",
                FrameResponseStatus.Busy => "busy",
                _ => "handler_error",
            };
            ClientInstruments.StopRequest(activity, _session.Host, _session.Port, started, outcome, response.IsOk ? null : outcome);
            return response;
        }
        catch (Exception ex)
        {
            ClientInstruments.StopRequest(activity, _session.Host, _session.Port, started, "error", ex.GetType().FullName);
            throw;
        }
    }

    /// <summary>
    /// Sends a heartbeat and waits for the server's answer: a round trip through the connection, in order behind the
    /// requests sent before it.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>A task that completes when the server has answered.</returns>
    /// <exception cref="FrameConnectionClosedException">The connection ended before the answer, and was not recovered.</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed.</exception>
    public ValueTask PingAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _session.PingAsync(cancellationToken);
    }

    /// <summary>
    /// Closes the connection at once. Requests still waiting fail with a <see cref="FrameConnectionClosedException"/>
    /// (<see cref="FrameConnectionClosedException.WasProcessed"/> tells whether they were sent); later calls throw
    /// <see cref="ObjectDisposedException"/>. To finish first, await the outstanding requests, then dispose.
    /// </summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public ValueTask DisposeAsync()
    {
        Volatile.Write(ref _disposed, 1);
        return _session.DisposeAsync();
    }
}
