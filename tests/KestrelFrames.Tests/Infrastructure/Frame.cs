

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>A frame as the test client received it.</summary>
public sealed record Frame(bool IsStatus, byte[] Payload)
{
    public FrameStatus Status => IsStatus ? (FrameStatus)Payload[0] : throw new InvalidOperationException("Not a status frame.");

    public string Reason => System.Text.Encoding.UTF8.GetString(Payload.AsSpan(1));

    public override string ToString() => IsStatus ? $"status {Status} ({Reason})" : $"frame of {Payload.Length} bytes";
}
