using System.Text;

namespace KestrelFrames.Soak;

/// <summary>A frame from the server: an answer, or a status (code byte, then a UTF-8 reason).</summary>
internal sealed record ServerFrame(bool IsStatus, byte[] Payload)
{
    public byte? Code => IsStatus && Payload.Length > 0 ? Payload[0] : null;

    /// <summary>For the report: the status's name and reason, or the answer's length.</summary>
    public string Describe() => IsStatus
        ? $"status {StatusCodes.Name(Code)} \"{Encoding.UTF8.GetString(Payload.AsSpan(Math.Min(1, Payload.Length)))}\""
        : $"a {Payload.Length}-byte answer";
}
