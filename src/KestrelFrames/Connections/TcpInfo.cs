using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KestrelFrames.Connections;

/// <summary>
/// Reads from the kernel's <c>TCP_INFO</c> how many bytes the application has written into a TCP socket. Kestrel's
/// socket transport sends from its own loop out of a pipe whose fill it does not expose; comparing this count with
/// the bytes the connection flushed is how the server knows that loop has nothing left before it half-closes.
/// </summary>
internal static class TcpInfo
{
    private const int IpProtoTcp = 6;
    private const int TcpInfoOption = 11;

    // Offsets in Linux's struct tcp_info (linux/tcp.h); tcpi_bytes_sent and tcpi_bytes_retrans arrived in 4.19.
    private const int NotSentBytesOffset = 144;
    private const int BytesSentOffset = 200;
    private const int BytesRetransmittedOffset = 208;
    private const int Needed = BytesRetransmittedOffset + sizeof(ulong);

    /// <summary>
    /// Bytes written into <paramref name="socket"/> since it opened: transmitted once (retransmissions not counted
    /// twice) plus queued and not yet transmitted. False where the kernel cannot say (not Linux, before 4.19, closed).
    /// </summary>
    public static bool TryGetBytesWritten(Socket socket, out long written)
    {
        written = 0;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        Span<byte> info = stackalloc byte[256];
        int length;
        try
        {
            length = socket.GetRawSocketOption(IpProtoTcp, TcpInfoOption, info);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }

        if (length < Needed)
        {
            return false;
        }

        ulong sent = MemoryMarshal.Read<ulong>(info[BytesSentOffset..]);
        ulong retransmitted = MemoryMarshal.Read<ulong>(info[BytesRetransmittedOffset..]);
        uint notSent = MemoryMarshal.Read<uint>(info[NotSentBytesOffset..]);
        written = (long)(sent - retransmitted) + notSent;
        return true;
    }
}
