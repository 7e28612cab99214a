using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Tasks.Sources;
using KestrelFrames.Observability;
using KestrelFrames.Primitives;
using KestrelFrames.Protocol;

namespace KestrelFrames.Processing;

/// <summary>
/// One answer slot of a connection: a request on its way through the worker pool, a heartbeat, or a final status.
/// Each slot is owned by its connection's answer ring (Connections/ResponseQueue) and reused, so a request costs no allocation;
/// the connection's write loop awaits it as an <see cref="IValueTaskSource"/>.
/// </summary>
internal sealed class FrameWorkItem : FrameContext, IValueTaskSource
{
    private readonly ISlotOwner _connection;
    // Created by the first handler that writes an answer: echo-like handlers, heartbeats and statuses never need one.
    private PooledBufferWriter? _response;
    // The write loop resumes inline on the thread that completes the request (a worker): it writes the answer
    // there, sparing a thread-pool hop per request. Safe because signalling is the last thing a worker does
    // with a slot (see Signal), and the write loop never blocks.
    private ManualResetValueTaskSourceCore<bool> _completion = new() { RunContinuationsAsynchronously = false };
    private byte[] _request = [];
    private int _requestLength;
    private long _reservedBytes;
    private bool _answerIsRequest;
    private RequestSpan _span;

    public FrameWorkItem(ISlotOwner connection) => _connection = connection;

    public FrameSlotKind Kind { get; private set; }

    /// <summary>For a request: Busy or HandlerError when it was not answered by the handler; for a status slot, the status.</summary>
    public FrameStatus? Status { get; private set; }

    /// <summary>A request answered Busy because its client was over Frames:RateLimit:RequestsPerSecond.</summary>
    public bool RateLimited { get; private set; }

    /// <summary>When the request was fully read (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long ReceivedTimestamp { get; private set; }

    public override ReadOnlyMemory<byte> Request => _request.AsMemory(0, _requestLength);

    public override IBufferWriter<byte> Response
    {
        get
        {
            _response ??= new PooledBufferWriter(_connection.Buffers, _connection.Ledger);
            if (_answerIsRequest)
            {
                // Taken after RespondWithRequest: any write must fail, not vanish.
                _response.TrySeal();
            }

            return _response;
        }
    }

    public override FrameConnectionInfo Connection => _connection.Info;

    public override string ConnectionId => _connection.ConnectionId;

    public override EndPoint? RemoteEndPoint => _connection.RemoteEndPoint;

    /// <summary>
    /// The next request of the same read, when the read loop hands a read's requests to the pool as one batch.
    /// Owned by the worker from submission until it completes this slot.
    /// </summary>
    public FrameWorkItem? NextInBatch { get; set; }

    public CancellationToken Aborted => _connection.Aborted;

    /// <summary>The worker pool lane the request runs in (<see cref="WorkerPool.Lanes"/>); 0, the default lane, unless a classifier picked another.</summary>
    public int Lane { get; set; }

    public bool IsCompleted => _completion.GetStatus(_completion.Version) != ValueTaskSourceStatus.Pending;

    /// <summary>
    /// Copies the payload out of the transport's buffer, which is released as soon as the batch is parsed. The
    /// caller has reserved the payload's length from the connection's <see cref="BufferBudget"/>; <see cref="Reset"/>
    /// gives it back.
    /// </summary>
    public void SetRequest(in ReadOnlySequence<byte> payload, long receivedTimestamp)
    {
        Kind = FrameSlotKind.Request;
        _requestLength = (int)payload.Length;
        _reservedBytes = _requestLength;
        _request = _connection.Buffers.Rent(_requestLength);
        _connection.Ledger.Took(LedgerEntry.RequestBuffer);
        payload.CopyTo(_request);
        ReceivedTimestamp = receivedTimestamp;
        if (RequestSpan.IsEnabled)
        {
            _span.Start(ConnectionId, RemoteEndPoint, _connection.PeerEndPoint, _connection.LocalEndPoint, _requestLength);
        }
    }

    /// <summary>A request answered with <paramref name="status"/> without being read into memory or run.</summary>
    public void SetRejected(FrameStatus status, long receivedTimestamp)
    {
        Kind = FrameSlotKind.Request;
        ReceivedTimestamp = receivedTimestamp;
        if (RequestSpan.IsEnabled)
        {
            _span.Start(ConnectionId, RemoteEndPoint, _connection.PeerEndPoint, _connection.LocalEndPoint, requestSize: 0);
        }

        Complete(status);
    }

    /// <summary>A request over its client's rate: answered Busy with the reason "rate limit", in its place, not run.</summary>
    public void SetRateLimited(long receivedTimestamp)
    {
        RateLimited = true;
        SetRejected(FrameStatus.Busy, receivedTimestamp);
    }

    public void SetHeartbeat()
    {
        Kind = FrameSlotKind.Heartbeat;
        Signal();
    }

    public void SetStatus(FrameStatus status)
    {
        Kind = FrameSlotKind.Status;
        Status = status;
        Signal();
    }

    public override void RespondWithRequest()
    {
        if (_response is not null && !_response.TrySeal())
        {
            throw new InvalidOperationException("Part of the answer was already written to Response.");
        }

        _answerIsRequest = true;
    }

    /// <summary>Completes a request; <paramref name="status"/> is null when the handler's response stands.</summary>
    public void Complete(FrameStatus? status)
    {
        Finish(status);
        Signal();
    }

    /// <summary>
    /// Records a request's outcome without telling the write loop yet, so a worker can finish a whole batch and
    /// then <see cref="Signal"/> its slots from last to first: the write loop, waiting on the first, then finds
    /// every answer ready and writes them with one flush.
    /// </summary>
    public void Finish(FrameStatus? status)
    {
        Status = status;
        _span.Stop(status, RateLimited);
    }

    /// <summary>Hands a finished request to the write loop. Last: from here on the write loop may reset and reuse the slot.</summary>
    public void Signal() => _completion.SetResult(true);

    /// <summary>Worker: the handler is about to run; see <see cref="RequestSpan.Enter"/>.</summary>
    public Activity? EnterSpan(TimeProvider time) => _span.Enter(time, ReceivedTimestamp);

    public ValueTask WaitAsync() => new(this, _completion.Version);

    /// <summary>Writes this slot's answer into <paramref name="output"/> and returns the bytes written.</summary>
    public int WriteAnswer(PipeWriter output)
    {
        switch (Kind)
        {
            case FrameSlotKind.Heartbeat:
                return FrameCodec.WriteFrame(output, default);
            case FrameSlotKind.Request when Status is null:
                ReadOnlySpan<byte> answer = _answerIsRequest ? _request.AsSpan(0, _requestLength) : _response is null ? default : _response.WrittenSpan;
                return FrameCodec.WriteFrame(output, answer);
            case FrameSlotKind.Request when RateLimited:
                return FrameCodec.WriteStatus(output, FrameStatus.Busy, StatusReason.RateLimit);
            default:
                return StatusReason.WriteStatus(output, Status!.Value);
        }
    }

    /// <summary>Hands the buffers back to the pool and readies the slot for the connection's next frame.</summary>
    public void Reset()
    {
        if (_request.Length > 0)
        {
            _connection.Buffers.Return(_request);
            _connection.Ledger.Returned(LedgerEntry.RequestBuffer);
            _request = [];
        }

        if (_reservedBytes > 0)
        {
            _connection.Budget.Release(_reservedBytes);
            _reservedBytes = 0;
        }

        _requestLength = 0;
        _answerIsRequest = false;
        NextInBatch = null;
        Lane = 0;
        _response?.Reset();
        Status = null;
        RateLimited = false;
        _completion.Reset();
    }

    void IValueTaskSource.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);
}
