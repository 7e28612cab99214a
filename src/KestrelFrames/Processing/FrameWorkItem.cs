using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Tasks.Sources;
using KestrelFrames.Connections;
using KestrelFrames.Protocol;

namespace KestrelFrames.Processing;

/// <summary>
/// One answer slot of a connection: a request on its way through the worker pool, a heartbeat, or a final status.
/// Each slot is owned by its connection's <see cref="ResponseQueue"/> and reused, so a request costs no allocation;
/// the connection's write loop awaits it as an <see cref="IValueTaskSource"/>.
/// </summary>
internal sealed class FrameWorkItem : FrameContext, IValueTaskSource
{
    private readonly FrameConnection _connection;
    private readonly PooledBufferWriter _response = new();
    private ManualResetValueTaskSourceCore<bool> _completion = new() { RunContinuationsAsynchronously = true };
    private byte[] _request = [];
    private int _requestLength;
    private long _reservedBytes;

    public FrameWorkItem(FrameConnection connection) => _connection = connection;

    public FrameSlotKind Kind { get; private set; }

    /// <summary>For a request: Busy or HandlerError when it was not answered by the handler; for a status slot, the status.</summary>
    public FrameStatus? Status { get; private set; }

    /// <summary>When the request was fully read (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long ReceivedTimestamp { get; private set; }

    public override ReadOnlyMemory<byte> Request => _request.AsMemory(0, _requestLength);

    public override IBufferWriter<byte> Response => _response;

    public override string ConnectionId => _connection.ConnectionId;

    public override EndPoint? RemoteEndPoint => _connection.RemoteEndPoint;

    public CancellationToken Aborted => _connection.Aborted;

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
        _request = ArrayPool<byte>.Shared.Rent(_requestLength);
        payload.CopyTo(_request);
        ReceivedTimestamp = receivedTimestamp;
    }

    /// <summary>A request answered with <paramref name="status"/> without being read into memory or run.</summary>
    public void SetRejected(FrameStatus status, long receivedTimestamp)
    {
        Kind = FrameSlotKind.Request;
        ReceivedTimestamp = receivedTimestamp;
        Complete(status);
    }

    public void SetHeartbeat()
    {
        Kind = FrameSlotKind.Heartbeat;
        _completion.SetResult(true);
    }

    public void SetStatus(FrameStatus status)
    {
        Kind = FrameSlotKind.Status;
        Status = status;
        _completion.SetResult(true);
    }

    /// <summary>Completes a request; <paramref name="status"/> is null when the handler's response stands.</summary>
    public void Complete(FrameStatus? status)
    {
        Status = status;
        _completion.SetResult(true);
    }

    public ValueTask WaitAsync() => new(this, _completion.Version);

    /// <summary>Writes this slot's answer into <paramref name="output"/> and returns the bytes written.</summary>
    public int WriteAnswer(PipeWriter output)
    {
        switch (Kind)
        {
            case FrameSlotKind.Heartbeat:
                FrameWriter.WriteHeader(output, 0);
                return FrameHeader.Size;
            case FrameSlotKind.Request when Status is null:
                FrameWriter.WriteFrame(output, _response.WrittenSpan);
                return FrameHeader.Size + _response.WrittenCount;
            default:
                ReadOnlySpan<byte> reason = StatusReason.For(Status!.Value);
                FrameWriter.WriteStatus(output, Status.Value, reason);
                return FrameHeader.Size + 1 + reason.Length;
        }
    }

    /// <summary>Hands the buffers back to the pool and readies the slot for the connection's next frame.</summary>
    public void Reset()
    {
        if (_request.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_request);
            _request = [];
        }

        if (_reservedBytes > 0)
        {
            _connection.Budget.Release(_reservedBytes);
            _reservedBytes = 0;
        }

        _requestLength = 0;
        _response.Reset();
        Status = null;
        _completion.Reset();
    }

    void IValueTaskSource.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);
}
