using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;

namespace KestrelFrames.Client.Internal;

/// <summary>
/// One transport connection: a socket (inside an <see cref="SslStream"/> for TLS) read through a
/// <see cref="PipeReader"/> and written through a <see cref="PipeWriter"/>. Its write loop copies queued requests
/// into the pipe, a batch at a time, and flushes once per batch; its read loop matches each answer to the oldest
/// request written and not yet answered. The two share only the answer queue.
/// </summary>
internal sealed partial class FrameConnection : IAsyncDisposable
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
}
