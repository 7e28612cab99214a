namespace KestrelFrames.Client;

/// <summary>
/// The server's answer to one request: the handler's payload, or a <see cref="FrameResponseStatus.Busy"/> or
/// <see cref="FrameResponseStatus.HandlerError"/> status in its place. Connection-level failures are exceptions
/// (<see cref="FrameConnectionClosedException"/>), not responses.
/// </summary>
/// <param name="status">How the server answered.</param>
/// <param name="payload">The answer's payload; empty unless <paramref name="status"/> is <see cref="FrameResponseStatus.Ok"/>.</param>
public readonly struct FrameResponse(FrameResponseStatus status, ReadOnlyMemory<byte> payload) : IEquatable<FrameResponse>
{
    /// <summary>How the server answered the request.</summary>
    public FrameResponseStatus Status { get; } = status;

    /// <summary>
    /// The handler's answer when <see cref="Status"/> is <see cref="FrameResponseStatus.Ok"/>, else empty. The
    /// memory is a copy that belongs to the caller: it stays valid and unchanged after later requests.
    /// </summary>
    public ReadOnlyMemory<byte> Payload { get; } = payload;

    /// <summary>True when the handler answered (<see cref="FrameResponseStatus.Ok"/>).</summary>
    public bool IsOk => Status == FrameResponseStatus.Ok;

    /// <summary>Returns <see cref="Payload"/> when the handler answered, and throws otherwise.</summary>
    /// <exception cref="FrameResponseException">The status is not <see cref="FrameResponseStatus.Ok"/>.</exception>
    public ReadOnlyMemory<byte> EnsureOk() => IsOk ? Payload : throw new FrameResponseException(Status);

    /// <summary>Equal when the statuses are equal and the payloads are the same memory (not compared byte by byte).</summary>
    public static bool operator ==(FrameResponse left, FrameResponse right) => left.Equals(right);

    /// <summary>The negation of <see cref="op_Equality"/>.</summary>
    public static bool operator !=(FrameResponse left, FrameResponse right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(FrameResponse other) => Status == other.Status && Payload.Equals(other.Payload);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is FrameResponse other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Status, Payload);

    /// <inheritdoc/>
    public override string ToString() => IsOk ? $"Ok ({Payload.Length} bytes)" : Status.ToString();
}
