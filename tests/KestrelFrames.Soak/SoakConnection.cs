using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace KestrelFrames.Soak;

/// <summary>
/// One client connection, plain or TLS, with the few wire operations the client kinds need: write raw bytes, read
/// one server frame, expect end of stream, half-close, and reset (RST instead of FIN).
/// </summary>
internal sealed class SoakConnection : IAsyncDisposable
{
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly byte[] _header = new byte[FrameWire.HeaderLength];

    private SoakConnection(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    /// <param name="target">Where to connect.</param>
    /// <param name="pinned">The TLS target's certificate: the server must present exactly this one.</param>
    /// <param name="receiveBufferSize">A small kernel receive buffer makes the server's writes back up sooner.</param>
    /// <param name="cancellationToken">Ends the attempt.</param>
    public static async Task<SoakConnection> ConnectAsync(SoakTarget target, X509Certificate2? pinned, int? receiveBufferSize, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (receiveBufferSize is { } size)
            {
                socket.ReceiveBufferSize = size;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_connectTimeout);
            await socket.ConnectAsync(target.Host, target.Port, timeout.Token);
            var network = new NetworkStream(socket, ownsSocket: true);
            if (!target.Tls)
            {
                return new SoakConnection(socket, network);
            }

            var tls = new SslStream(network, leaveInnerStreamOpen: false);
            try
            {
                var options = new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",

                    // Pinned, not trusted: the certificate is the one the soak script generated for this run.
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                        pinned is not null && certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinned.RawData),
                };
                await tls.AuthenticateAsClientAsync(options, timeout.Token);
                return new SoakConnection(socket, tls);
            }
            catch
            {
                await tls.DisposeAsync();
                throw;
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(bytes, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
    }


    /// <summary>
    /// The next server frame, or null at a clean end of stream between frames. An end of stream inside a frame,
    /// or a length over <paramref name="maxLength"/>, throws <see cref="ProtocolViolationException"/>.
    /// </summary>
    public async Task<ServerFrame?> ReadFrameAsync(int maxLength, CancellationToken cancellationToken)
    {
        int first = await _stream.ReadAsync(_header.AsMemory(0, FrameWire.HeaderLength), cancellationToken);
        if (first == 0)
        {
            return null;
        }

        await ReadExactlyAsync(_header.AsMemory(first), "a frame header", cancellationToken);
        uint header = BinaryPrimitives.ReadUInt32BigEndian(_header);
        bool isStatus = (header & FrameWire.StatusBit) != 0;
        int length = (int)(header & ~FrameWire.StatusBit);
        if (length > maxLength)
        {
            throw new ProtocolViolationException($"the server announced a {length}-byte frame (header 0x{header:X8}); at most {maxLength} expected");
        }

        byte[] payload = length == 0 ? [] : new byte[length];
        await ReadExactlyAsync(payload, "a frame payload", cancellationToken);
        return new ServerFrame(isStatus, payload);
    }

    /// <summary>Reads on until the server closes; bytes before that are a violation (nothing more was due).</summary>
    public async Task ExpectEndOfStreamAsync(CancellationToken cancellationToken)
    {
        int read = await _stream.ReadAsync(_header, cancellationToken);
        if (read != 0)
        {
            throw new ProtocolViolationException($"{read} more bytes arrived where the server should have closed");
        }
    }

    /// <summary>Ends the sending side (TLS close_notify first, then TCP FIN); the server still answers what it has.</summary>
    public async Task HalfCloseAsync()
    {
        if (_stream is SslStream tls)
        {
            await tls.ShutdownAsync();
        }

        _socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>Drops the connection with a TCP reset, as a crashed client or a middlebox would.</summary>
    public void Reset()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already broken: the close below is all that is left.
        }

        _socket.Close();
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();

    /// <summary>Fills <paramref name="buffer"/> with raw bytes; an end of stream first is a violation named after <paramref name="what"/>.</summary>
    public async Task ReadExactlyAsync(Memory<byte> buffer, string what, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.ReadExactlyAsync(buffer, cancellationToken);
        }
        catch (EndOfStreamException)
        {
            throw new ProtocolViolationException($"the server closed in the middle of {what}");
        }
    }
}
