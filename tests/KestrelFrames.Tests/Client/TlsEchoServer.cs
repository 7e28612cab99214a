using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KestrelFrames.Tests.Client;

/// <summary>
/// A minimal TLS frame server for the client's TLS path: a self-signed certificate made in memory, one connection,
/// and every frame echoed (heartbeats included, which echo as empty frames, as the real server answers them).
/// </summary>
public sealed class TlsEchoServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    private int _framesEchoed;

    public TlsEchoServer()
    {
        Certificate = CreateCertificate();
        _listener.Start();
        _serving = ServeAsync();
    }

    public X509Certificate2 Certificate { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int FramesEchoed => Volatile.Read(ref _framesEchoed);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serving;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
        Certificate.Dispose();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), password: null);
    }

    private async Task ServeAsync()
    {
        using TcpClient accepted = await _listener.AcceptTcpClientAsync(_stop.Token);
        await using var tls = new SslStream(accepted.GetStream());
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = Certificate }, _stop.Token);
        var header = new byte[4];
        while (true)
        {
            int read = await tls.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, _stop.Token);
            if (read < header.Length)
            {
                return;
            }

            var payload = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
            await tls.ReadExactlyAsync(payload, _stop.Token);

            // Counted before answering: a client holding the answer must see the count include it.
            Interlocked.Increment(ref _framesEchoed);
            await tls.WriteAsync(header, _stop.Token);
            await tls.WriteAsync(payload, _stop.Token);
        }
    }
}
