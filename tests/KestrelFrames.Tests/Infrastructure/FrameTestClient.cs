using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>A deliberately plain socket client for tests: it writes exactly the bytes it is told to, good or bad.</summary>
public sealed class FrameTestClient : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly Stream _stream;

    private FrameTestClient(Socket socket, Stream stream)
    {
        Socket = socket;
        _stream = stream;
    }

    public Socket Socket { get; }

    /// <summary>Connects from <paramref name="localAddress"/> when given (another loopback address is another client on Linux).</summary>
    public static async Task<FrameTestClient> ConnectAsync(EndPoint endPoint, IPAddress? localAddress = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (localAddress is not null)
        {
            socket.Bind(new IPEndPoint(localAddress, 0));
        }

        await socket.ConnectAsync(endPoint);
        return new FrameTestClient(socket, new NetworkStream(socket, ownsSocket: false));
    }

    /// <summary>
    /// Connects over TLS, trusting exactly <paramref name="serverCertificate"/>; <paramref name="preamble"/>, if any, is
    /// written raw on the socket before the handshake (a PROXY protocol header, as a balancer sends it).
    /// </summary>
    public static async Task<FrameTestClient> ConnectTlsAsync(EndPoint endPoint, System.Security.Cryptography.X509Certificates.X509Certificate2 serverCertificate, byte[]? preamble = null,
        System.Security.Cryptography.X509Certificates.X509Certificate2? clientCertificate = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        var network = new NetworkStream(socket, ownsSocket: false);
        if (preamble is not null)
        {
            using var timeout = new CancellationTokenSource(s_timeout);
            await network.WriteAsync(preamble, timeout.Token);
        }

        var tls = new System.Net.Security.SslStream(network, leaveInnerStreamOpen: false,
            (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == serverCertificate.GetCertHashString());
        try
        {
            await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            }).WaitAsync(s_timeout);
        }
        catch
        {
            // A failed handshake must not leave the connection open on the server.
            await tls.DisposeAsync();
            socket.Dispose();
            throw;
        }

        return new FrameTestClient(socket, tls);
    }

    public static byte[] Encode(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[FrameHeader.Size + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(FrameHeader.Size));
        return frame;
    }

    public Task SendFrameAsync(ReadOnlySpan<byte> payload) => SendRawAsync(Encode(payload));

    public async Task SendRawAsync(byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        try
        {
            await _stream.WriteAsync(bytes, timeout.Token);
        }
        catch (IOException ex) when (ex.InnerException is SocketException socketError)
        {
            // Tests reason in socket terms (a reset, a broken pipe): NetworkStream wraps them, unwrap.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(socketError);
        }
    }

    /// <summary>The next frame, or null when the server closed the connection cleanly at a frame boundary.</summary>
    public async Task<Frame?> ReadFrameAsync()
    {
        var header = new byte[FrameHeader.Size];
        if (!await ReadExactlyAsync(header, allowEof: true))
        {
            return null;
        }

        uint raw = BinaryPrimitives.ReadUInt32BigEndian(header);
        bool isStatus = (raw & FrameHeader.StatusFlag) != 0;
        var payload = new byte[raw & ~FrameHeader.StatusFlag];
        await ReadExactlyAsync(payload, allowEof: false);
        return new Frame(isStatus, payload);
    }

    public async Task<Frame> ReadRequiredFrameAsync() =>
        await ReadFrameAsync() ?? throw new InvalidOperationException("The server closed the connection.");

    /// <summary>True when the server has closed its side: the next read returns end of stream.</summary>
    public async Task<bool> IsClosedByServerAsync() => await ReadFrameAsync() is null;

    public void Dispose()
    {
        _stream.Dispose();
        Socket.Dispose();
    }

    private async Task<bool> ReadExactlyAsync(Memory<byte> buffer, bool allowEof)
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        int read = 0;
        while (read < buffer.Length)
        {
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer[read..], timeout.Token);
            }
            catch (IOException ex) when (ex.InnerException is SocketException socketError)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(socketError);
                throw;
            }

            if (n == 0)
            {
                if (allowEof && read == 0)
                {
                    return false;
                }

                throw new EndOfStreamException($"Connection closed after {read} of {buffer.Length} bytes.");
            }

            read += n;
        }

        return true;
    }
}
