namespace KestrelFrames.Bench;

/// <summary>
/// The send loop's buffer: a batch of ready-made request frames, headers (from the shared codec) and pattern
/// written once. Sending a batch only patches each frame's stamp in place, so nothing is allocated per request.
/// </summary>
internal sealed class SendBuffer
{
    private const int MaxBatchBytes = 256 * 1024;
    private const int MaxOpenLoopBatchFrames = 512;

    private readonly EchoPattern _pattern;
    private readonly int _frameLength;
    private readonly byte[] _frames;

    public SendBuffer(EchoPattern pattern, long maxInFlight, bool openLoop)
    {
        _pattern = pattern;
        _frameLength = FrameHeader.Size + pattern.Size;

        int byBytes = Math.Max(1, MaxBatchBytes / _frameLength);
        Capacity = (int)Math.Min(openLoop ? Math.Min(byBytes, MaxOpenLoopBatchFrames) : byBytes, maxInFlight);

        _frames = new byte[(long)Capacity * _frameLength];
        for (int frame = 0; frame < Capacity; frame++)
        {
            Span<byte> slot = _frames.AsSpan(frame * _frameLength, _frameLength);
            new FrameHeader((uint)pattern.Size, IsStatus: false).WriteTo(slot);
            pattern.CopyTemplateTo(slot[FrameHeader.Size..]);
        }
    }

    /// <summary>
    /// The most requests one batch holds: 256 KiB of frames (at least one frame), at most 512 in the open loop,
    /// and never more than may be in flight.
    /// </summary>
    public int Capacity { get; }

    /// <summary>Stamps the first <paramref name="count"/> frames as requests <paramref name="first"/> on, and returns them.</summary>
    public ReadOnlyMemory<byte> Stamp(long first, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _pattern.WriteStamp(_frames.AsSpan((i * _frameLength) + FrameHeader.Size, _pattern.Size), first + i);
        }

        return _frames.AsMemory(0, count * _frameLength);
    }
}
