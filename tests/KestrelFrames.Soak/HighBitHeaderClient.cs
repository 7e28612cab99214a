namespace KestrelFrames.Soak;

/// <summary>
/// A client header with the high bit set (what a status looks like from the server, or a desynchronised stream):
/// exactly 0x80000000, all ones, or a random one, with a few bytes after it. Expected: ProtocolError, then close.
/// </summary>
internal sealed class HighBitHeaderClient(SoakOptions options) : ISoakClient
{
    public string Kind => "high-bit-header";

    public bool IsGood => false;

    public Task<Outcome> RunOnceAsync(SoakTarget target, int attempt, CancellationToken cancellationToken)
    {
        uint header = (attempt / 2 % 3) switch
        {
            0 => FrameWire.StatusBit,
            1 => uint.MaxValue,
            _ => FrameWire.StatusBit | (uint)Random.Shared.Next(),
        };
        byte[] bad = [.. FrameWire.Header(header), .. new byte[Random.Shared.Next(0, 64)]];
        return ClosingStatusProbe.RunAsync(options, target, attempt, bad, StatusCodes.ProtocolError, cancellationToken);
    }
}
