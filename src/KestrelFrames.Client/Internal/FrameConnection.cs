using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace KestrelFrames.Client.Internal;

/// <summary>
/// One transport connection: a socket (inside an <see cref="SslStream"/> for TLS) read through a
/// <see cref="PipeReader"/> and written through a <see cref="PipeWriter"/>. Its write loop copies queued requests
/// into the pipe, a batch at a time, and flushes once per batch; its read loop matches each answer to the oldest
/// request written and not yet answered. The two share only the answer queue.
/// </summary>
internal sealed class FrameConnection : IAsyncDisposable
{
    /// <summary>A batch is flushed early once it holds this many bytes, so a burst of large requests streams out.</summary>
    private const int FlushThreshold = 64 * 1024;

    private static readonly Exception s_closed = new IOException("The frame connection is closed.");

    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly int _maxFrameSize;
    private readonly ConcurrentQueue<PendingRequest> _inFlight = new();
    private readonly Lock _lifetime = new();
    private Queue<PendingRequest> _batch = new();
    private Exception? _writeError;
    private volatile bool _closing;
    private volatile bool _aborted;
    private bool _disposed;

    private FrameConnection(Stream stream, int maxFrameSize)
    {
        _stream = stream;
        _maxFrameSize = maxFrameSize;
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
    }

    /// <summary>
    /// Connects, authenticates TLS when configured, and sends a heartbeat: the connection counts as established only
    /// once the server answers it, so a server at its connection limit or shutting down is an error here, not later.
    /// </summary>
    public static async ValueTask<FrameConnection> ConnectAsync(string host, int port, FrameClientOptions options, CancellationToken cancellationToken)
    {
        using CancellationTokenSource? timeout = options.ConnectTimeout == Timeout.InfiniteTimeSpan
            ? null
            : new CancellationTokenSource(options.ConnectTimeout, options.TimeProvider);
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout?.Token ?? CancellationToken.None);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        FrameConnection? connection = null;
        try
        {
            await socket.ConnectAsync(host, port, linked.Token);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (options.Tls is { } tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(tls.ToAuthenticationOptions(host), linked.Token);
            }

            connection = new FrameConnection(stream, options.MaxFrameSize);
            await connection.HandshakeAsync(host, port, linked.Token);
            return connection;
        }
        catch (OperationCanceledException) when (timeout?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            await DisposeAfterFailureAsync(connection, stream, socket);
            throw new TimeoutException($"Connecting to {host}:{port} did not complete within the ConnectTimeout of {options.ConnectTimeout}.");
        }
        catch
        {
            await DisposeAfterFailureAsync(connection, stream, socket);
            throw;
        }
    }

    /// <summary>
    /// Runs the connection until it ends: first writes <paramref name="resend"/> (requests an earlier connection left
    /// unanswered, in order), then whatever callers queue. The list is emptied.
    /// </summary>
    public async Task<ConnectionOutcome> RunAsync(FrameSession session, List<PendingRequest> resend)
    {
        foreach (PendingRequest request in resend)
        {
            _batch.Enqueue(request);
        }

        resend.Clear();
        Task writing = WriteLoopAsync(session);
        ConnectionOutcome outcome = await ReadLoopAsync(session);

        // Nothing more will be answered: stop writing, even if a flush waits on the socket.
        _closing = true;
        CancelPending();
        session.Outbox.Wake();
        await writing;
        return outcome;
    }

    /// <summary>
    /// After <see cref="RunAsync"/>: appends to <paramref name="unanswered"/> every request still owed an answer, in
    /// the order it was queued, and releases the rest (heartbeats, cancelled requests). A request that caused the
    /// close is failed here, never resent.
    /// </summary>
    public void CollectUnanswered(ConnectionOutcome outcome, List<PendingRequest> unanswered)
    {
        bool culpritPending = outcome.HasCulprit;
        bool? wasProcessed = outcome.MayHaveProcessedUnanswered ? null : false;
        while (_inFlight.TryDequeue(out PendingRequest? request))
        {
            if (culpritPending)
            {
                culpritPending = false;
                request.TrySetException(outcome.CreateCulpritException());
                request.Release();
                continue;
            }

            Collect(request, wasProcessed, unanswered);
        }

        // Taken from the outbox but never written: certainly not processed.
        while (_batch.TryDequeue(out PendingRequest? request))
        {
            Collect(request, wasProcessed: false, unanswered);
        }
    }

    /// <summary>Stops both loops at once; <see cref="RunAsync"/> then returns <see cref="ConnectionEnd.Disposed"/>.</summary>
    public void Abort()
    {
        lock (_lifetime)
        {
            if (!_disposed)
            {
                _aborted = true;
                _closing = true;
                CancelPending();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lifetime)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        // With an exception the writer drops what it holds instead of writing it to a dead stream.
        await _output.CompleteAsync(s_closed);
        await _input.CompleteAsync();
        await _stream.DisposeAsync();
    }

    private static void Collect(PendingRequest request, bool? wasProcessed, List<PendingRequest> unanswered)
    {
        if (request.Kind == PendingRequestKind.Heartbeat || request.IsCompleted)
        {
            request.Release();
            return;
        }

        request.WasProcessed = wasProcessed;
        unanswered.Add(request);
    }

    private static async ValueTask DisposeAfterFailureAsync(FrameConnection? connection, Stream? stream, Socket socket)
    {
        if (connection is not null)
        {
            await connection.DisposeAsync();
        }
        else if (stream is not null)
        {
            await stream.DisposeAsync();
        }
        else
        {
            socket.Dispose();
        }
    }

    private void CancelPending()
    {
        _input.CancelPendingRead();
        _output.CancelPendingFlush();
    }

    private async ValueTask HandshakeAsync(string host, int port, CancellationToken cancellationToken)
    {
        FrameCodec.WriteFrame(_output, []);
        await _output.FlushAsync(cancellationToken);
        while (true)
        {
            ReadResult result = await _input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            FrameReadResult read = FrameCodec.TryRead(ref buffer, _maxFrameSize, out FrameHeader header, out ReadOnlySequence<byte> payload);
            if (read == FrameReadResult.Frame)
            {
                // Read the frame before advancing: the reader may recycle the memory it lives in.
                FrameStatus status = default;
                bool closing = header.IsStatus && FrameCodec.TryReadStatus(payload, out status) && status.IsConnectionEnding();
                _input.AdvanceTo(buffer.Start);
                if (!closing)
                {
                    return; // The heartbeat's answer (a status below 0x10 is not expected, but the server is serving).
                }

                string message = $"The server at {host}:{port} closed the connection while it was being established, with status {status}.";
                throw status == FrameStatus.ShuttingDown
                    ? new FrameShuttingDownException(message)
                    : new FrameConnectionClosedException(message, status, wasProcessed: false);
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
            if (read == FrameReadResult.TooLarge || result.IsCompleted)
            {
                throw new FrameConnectionClosedException(
                    $"The server at {host}:{port} did not answer the first heartbeat: it closed the connection or sent something else.",
                    statusCode: null,
                    wasProcessed: false);
            }
        }
    }

    private async Task<ConnectionOutcome> ReadLoopAsync(FrameSession session)
    {
        try
        {
            while (true)
            {
                ReadResult result = await _input.ReadAsync();
                if (result.IsCanceled)
                {
                    // Cancelled by Abort (the client is disposed), or by the write loop after an unexpected failure.
                    Exception? writeError = Volatile.Read(ref _writeError);
                    return _aborted || writeError is null ? ConnectionOutcome.Disposed() : ConnectionOutcome.Dropped(writeError);
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                ConnectionOutcome? outcome = ReadAnswers(ref buffer, session);
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (outcome is not null)
                {
                    return outcome;
                }

                if (result.IsCompleted)
                {
                    return ConnectionOutcome.Dropped(Volatile.Read(ref _writeError));
                }
            }
        }
        catch (Exception ex)
        {
            // Transport failures, and anything unexpected: either way this connection is over, and the session
            // must hear about it rather than hang.
            return ConnectionOutcome.Dropped(ex);
        }
    }

    /// <summary>Matches every whole frame in <paramref name="buffer"/>; returns how the connection ends, if a frame ends it.</summary>
    private ConnectionOutcome? ReadAnswers(ref ReadOnlySequence<byte> buffer, FrameSession session)
    {
        while (true)
        {
            switch (FrameCodec.TryRead(ref buffer, _maxFrameSize, out FrameHeader header, out ReadOnlySequence<byte> payload))
            {
                case FrameReadResult.Incomplete:
                    return null;
                case FrameReadResult.TooLarge:
                    return ConnectionOutcome.AnswerTooLarge(header.PayloadLength, _maxFrameSize);
            }

            FrameResponseStatus status = FrameResponseStatus.Ok;
            if (header.IsStatus)
            {
                if (!FrameCodec.TryReadStatus(payload, out FrameStatus code) || code == 0)
                {
                    return ConnectionOutcome.ProtocolViolation("The server sent a status frame without a status code; the connection was dropped.");
                }

                if (code.IsConnectionEnding())
                {
                    // The server's last frame: it answered everything it processed, and closes now.
                    return ConnectionOutcome.ClosedByServer(code);
                }

                status = (FrameResponseStatus)code;
            }

            if (!TryAnswer(status, payload, session))
            {
                return ConnectionOutcome.ProtocolViolation("The server sent an answer with no request waiting for it; the connection was dropped.");
            }
        }
    }

    private bool TryAnswer(FrameResponseStatus status, in ReadOnlySequence<byte> payload, FrameSession session)
    {
        if (!_inFlight.TryDequeue(out PendingRequest? request))
        {
            return false;
        }

        if (request.Kind == PendingRequestKind.Heartbeat)
        {
            request.Release();
            session.OnHeartbeatAnswered();
            return true;
        }

        // A request whose caller cancelled still had its answer slot: the answer is read and dropped, uncopied.
        if (!request.IsCompleted)
        {
            byte[] copy = status == FrameResponseStatus.Ok && !payload.IsEmpty ? payload.ToArray() : [];
            request.TrySetResult(new FrameResponse(status, copy));
        }

        request.Release();
        return true;
    }

    private async Task WriteLoopAsync(FrameSession session)
    {
        RequestOutbox outbox = session.Outbox;
        try
        {
            while (!_closing)
            {
                if (_batch.Count == 0 && !outbox.TryTakeAll(ref _batch))
                {
                    if (!await outbox.WaitAsync())
                    {
                        return;
                    }

                    continue;
                }

                // Everything queued so far goes out with one flush (a very large batch in several).
                long unflushed = 0;
                while (unflushed < FlushThreshold && !_closing && _batch.TryDequeue(out PendingRequest? request))
                {
                    unflushed += Write(request);
                }

                if (unflushed > 0)
                {
                    // Stamped before the flush, so before any answer to this batch can arrive: whoever reacts to an
                    // answer (a caller, or a test advancing a fake clock) never sees an older time.
                    session.OnSent();
                    FlushResult result = await _output.FlushAsync();
                    if (result.IsCanceled || result.IsCompleted)
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception ex)
        {
            Volatile.Write(ref _writeError, ex);
            if (ex is not (IOException or SocketException or ObjectDisposedException or AuthenticationException))
            {
                // Not a transport failure, so the read loop would not notice: end the connection from here.
                _input.CancelPendingRead();
            }

            // A transport failure: the read loop sees it too, after any answers and closing status the server sent
            // first, which must still be read.
        }
    }

    private int Write(PendingRequest request)
    {
        if (!request.TryBeginWrite())
        {
            request.Release(); // Its caller cancelled before it was sent: it never takes an answer slot.
            return 0;
        }

        // Into the answer queue before the bytes can reach the server, so its answer always finds it.
        _inFlight.Enqueue(request);
        int written = FrameCodec.WriteFrame(_output, request.Payload.Span);
        request.EndWrite();
        return written;
    }
}
