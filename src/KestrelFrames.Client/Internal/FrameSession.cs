using System.Buffers;
using Polly;

namespace KestrelFrames.Client.Internal;

/// <summary>
/// A client's life across connections. Callers queue requests in the <see cref="Outbox"/>; one connection at a time
/// writes and answers them. When a connection ends, the session collects the requests it left unanswered and, with
/// reconnect on, connects again and has the new connection write exactly those first, in their order, before
/// anything queued since; without it, fails them and refuses further requests.
/// </summary>
internal sealed class FrameSession : IAsyncDisposable
{
    /// <summary>Pooled request states kept beyond this many in use are left to the GC.</summary>
    private long _reconnects;
    private long _resentRequests;
    private const int MaxPooledRequests = 1024;

    private readonly string _host;
    private readonly int _port;
    private readonly FrameClientOptions _options;
    private readonly PendingRequestPool _pool = new(MaxPooledRequests);
    private readonly CancellationTokenSource _disposing = new();
    private readonly ResiliencePipeline? _reconnect;
    private readonly HeartbeatTimer? _heartbeat;
    private readonly Task _running;
    private FrameConnection? _connection;
    private ConnectionOutcome? _terminal;
    private long _lastSentTimestamp;
    private int _disposed;

    /// <param name="host">The host to reconnect to.</param>
    /// <param name="port">The port to reconnect to.</param>
    /// <param name="options">The client's own copy of its options.</param>
    /// <param name="reconnect">Connection attempts after a connection ends; null when the client does not reconnect.</param>
    /// <param name="connection">The first connection, established.</param>
    public FrameSession(string host, int port, FrameClientOptions options, ResiliencePipeline? reconnect, FrameConnection connection)
    {
        _host = host;
        _port = port;
        _options = options;
        _lastSentTimestamp = options.TimeProvider.GetTimestamp();
        _reconnect = reconnect;
        _connection = connection;
        _running = RunAsync(connection);
        if (options.HeartbeatInterval is { } interval)
        {
            _heartbeat = new HeartbeatTimer(this, interval, options.TimeProvider);
        }
    }

    /// <summary>Requests waiting to be written, shared by the current connection and the next.</summary>
    public RequestOutbox Outbox { get; } = new();

    /// <summary>Connections re-established after the first.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Requests sent again on a new connection because the old one never answered them.</summary>
    public long ResentRequests => Interlocked.Read(ref _resentRequests);

    /// <summary>When a batch was last handed to a connection to send, on the options' clock.</summary>
    public long LastSentTimestamp => Volatile.Read(ref _lastSentTimestamp);

    /// <summary>Test hook: called on the read loop when a heartbeat the client sent by itself is answered.</summary>
    internal Action? HeartbeatAnswered { get; set; }

    public string Host => _host;

    public int Port => _port;

    /// <summary>Queues a request; <paramref name="answer"/> is where its answer's payload goes, or null for a new array in the response.</summary>
    public ValueTask<FrameResponse> SendAsync(ReadOnlyMemory<byte> payload, IBufferWriter<byte>? answer, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<FrameResponse>(cancellationToken);
        }

        return Enqueue(PendingRequestKind.Request, payload, cancellationToken, answer).AsValueTask();
    }

    /// <summary>As <see cref="SendAsync"/> with a writer, awaited for the status alone: the pooled request is the awaitable.</summary>
    public ValueTask<FrameResponseStatus> SendForStatusAsync(ReadOnlyMemory<byte> payload, IBufferWriter<byte> answer, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<FrameResponseStatus>(cancellationToken);
        }

        return Enqueue(PendingRequestKind.Request, payload, cancellationToken, answer).AsStatusValueTask();
    }

    public ValueTask PingAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return Enqueue(PendingRequestKind.Ping, ReadOnlyMemory<byte>.Empty, cancellationToken).AsPingValueTask();
    }

    /// <summary>Heartbeat timer: queues a heartbeat nobody awaits, if a connection is up.</summary>
    public void SendHeartbeat()
    {
        if (Volatile.Read(ref _connection) is null || Volatile.Read(ref _disposed) != 0)
        {
            return; // Disconnected: a heartbeat must not be what makes the client reconnect.
        }

        PendingRequest heartbeat = _pool.Rent();
        heartbeat.Start(PendingRequestKind.Heartbeat, ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        if (!Outbox.TryEnqueue(heartbeat))
        {
            heartbeat.Release();
        }
    }

    /// <summary>Write loop: a batch is being flushed.</summary>
    public void OnSent() => Volatile.Write(ref _lastSentTimestamp, _options.TimeProvider.GetTimestamp());

    /// <summary>Read loop: a heartbeat the client sent by itself was answered.</summary>
    public void OnHeartbeatAnswered() => HeartbeatAnswered?.Invoke();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _heartbeat?.Dispose();
            Volatile.Write(ref _terminal, ConnectionOutcome.Disposed());
            _disposing.Cancel();
            Outbox.Complete();
            Volatile.Read(ref _connection)?.Abort();
        }

        await _running;
        _disposing.Dispose();
    }

    private PendingRequest Enqueue(PendingRequestKind kind, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken, IBufferWriter<byte>? answer = null)
    {
        PendingRequest request = _pool.Rent();
        request.Start(kind, payload, cancellationToken, answer);
        if (!Outbox.TryEnqueue(request))
        {
            // The client is closed for good: this request was never sent.
            ConnectionOutcome terminal = Volatile.Read(ref _terminal) ?? ConnectionOutcome.Disposed();
            request.TrySetException(terminal.CreateException(wasProcessed: false));
            request.Release();
        }

        return request;
    }

    private async Task RunAsync(FrameConnection first)
    {
        var unanswered = new List<PendingRequest>();
        FrameConnection? connection = first;
        try
        {
            while (connection is not null)
            {
                ConnectionOutcome outcome = await connection.RunAsync(this, unanswered);
                Volatile.Write(ref _connection, null);
                connection.CollectUnanswered(outcome, unanswered);
                await connection.DisposeAsync();
                connection = await RecoverAsync(outcome, unanswered);
                if (connection is not null)
                {
                    // A full fence, then the check: DisposeAsync cancels, then reads the field; one of us sees the other.
                    Interlocked.Exchange(ref _connection, connection);
                    if (_disposing.IsCancellationRequested)
                    {
                        connection.Abort();
                    }
                }
            }
        }
        catch (Exception ex)
        {
            // A bug must not leave callers waiting forever.
            ConnectionOutcome broken = ConnectionOutcome.Dropped(ex);
            Fail(unanswered, broken);
            Terminate(broken);
        }
    }

    /// <summary>After a connection ended: the next connection, or null when the session is over.</summary>
    private async Task<FrameConnection?> RecoverAsync(ConnectionOutcome outcome, List<PendingRequest> unanswered)
    {
        if (_disposing.IsCancellationRequested || _reconnect is null)
        {
            Fail(unanswered, outcome);
            Terminate(_disposing.IsCancellationRequested ? ConnectionOutcome.Disposed() : outcome);
            return null;
        }

        PrepareResend(outcome, unanswered);
        while (true)
        {
            if (unanswered.Count == 0)
            {
                // Nothing is owed: reconnect when the next request is queued, not before.
                if (!await Outbox.WaitAsync())
                {
                    Terminate(ConnectionOutcome.Disposed());
                    return null;
                }

                if (Outbox.IsEmpty)
                {
                    continue;
                }
            }

            try
            {
                FrameConnection connection = await _reconnect.ExecuteAsync(
                    static (session, cancellationToken) => FrameConnection.ConnectAsync(session._host, session._port, session._options, cancellationToken),
                    this,
                    _disposing.Token);
                Interlocked.Increment(ref _reconnects);
                Interlocked.Add(ref _resentRequests, unanswered.Count);
                ClientInstruments.Reconnected(_host, _port, unanswered.Count);
                return connection;
            }
            catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
            {
                Fail(unanswered, outcome);
                Terminate(ConnectionOutcome.Disposed());
                return null;
            }
            catch (Exception ex)
            {
                // Out of attempts: what waits fails now (none of it was processed since), and the next request
                // queued starts a new round of attempts.
                Fail(unanswered, outcome, ex);
                while (Outbox.TryDequeue(out PendingRequest request))
                {
                    Fail(request, outcome.CreateException(wasProcessed: false, ex));
                }
            }
        }
    }

    /// <summary>Keeps, in order, the requests to resend; fails those that must not be, and drops cancelled ones.</summary>
    private void PrepareResend(ConnectionOutcome outcome, List<PendingRequest> unanswered)
    {
        bool resendUnknown = _options.Reconnect!.ResendAfterConnectionLoss;
        int kept = 0;
        for (int i = 0; i < unanswered.Count; i++)
        {
            PendingRequest request = unanswered[i];
            if (!resendUnknown && request.WasProcessed is null)
            {
                Fail(request, outcome.CreateException(wasProcessed: null));
            }
            else if (!request.TryRequeue())
            {
                request.Release(); // Its caller cancelled.
            }
            else
            {
                unanswered[kept++] = request;
            }
        }

        unanswered.RemoveRange(kept, unanswered.Count - kept);
    }

    /// <summary>No request will be sent again: refuse new ones and fail what is queued.</summary>
    private void Terminate(ConnectionOutcome terminal)
    {
        if (Volatile.Read(ref _terminal) is null)
        {
            Volatile.Write(ref _terminal, terminal);
        }

        Outbox.Complete();
        while (Outbox.TryDequeue(out PendingRequest request))
        {
            Fail(request, terminal.CreateException(wasProcessed: false));
        }
    }

    private static void Fail(List<PendingRequest> requests, ConnectionOutcome outcome, Exception? reconnectError = null)
    {
        foreach (PendingRequest request in requests)
        {
            Fail(request, outcome.CreateException(request.WasProcessed, reconnectError));
        }

        requests.Clear();
    }

    private static void Fail(PendingRequest request, Exception exception)
    {
        if (request.Kind != PendingRequestKind.Heartbeat)
        {
            request.TrySetException(exception);
        }

        request.Release();
    }
}
