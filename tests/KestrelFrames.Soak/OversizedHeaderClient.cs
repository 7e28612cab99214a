using System.Text;

namespace KestrelFrames.Soak;

/// <summary>
/// A header over MaxFrameSize, in three shapes: one byte over the limit (with some payload after it), the largest
/// length without the high bit, and an HTTP request sent to the frame port ("GET " read as a length is ~1.2 GB).
/// Expected: FrameTooLarge, then close.
/// </summary>
internal sealed class OversizedHeaderClient(SoakOptions options) : ISoakClient
{
    private static readonly byte[] s_httpRequest = Encoding.ASCII.GetBytes("GET /health/ready HTTP/1.1\r\nHost: localhost\r\n\r\n");

    public string Kind => "oversized-header";

    public bool IsGood => false;

    public Task<Outcome> RunOnceAsync(SoakTarget target, int attempt, CancellationToken cancellationToken)
    {
        byte[] bad = (attempt / 2 % 3) switch
        {
            0 => [.. FrameWire.Header((uint)options.MaxFrameSize + 1), .. new byte[Random.Shared.Next(0, 4096)]],
            1 => FrameWire.Header(int.MaxValue),
            _ => s_httpRequest,
        };
        return ClosingStatusProbe.RunAsync(options, target, attempt, bad, StatusCodes.FrameTooLarge, cancellationToken);
    }
}
