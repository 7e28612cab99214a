using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace KestrelFrames.Client;

/// <summary>TLS settings of a <see cref="FrameClient"/>: with them the client speaks the protocol inside an <see cref="SslStream"/>.</summary>
public sealed class FrameClientTlsOptions
{
    /// <summary>The server name to validate the certificate against and to send as SNI. Null (default): the host passed to <see cref="FrameClient.ConnectAsync"/>.</summary>
    public string? TargetHost { get; set; }

    /// <summary>Certificates offered to a server that asks for client authentication. Empty by default.</summary>
    public X509CertificateCollection ClientCertificates { get; } = [];

    /// <summary>Validates the server's certificate. Null (default): the platform's validation against the trusted roots and <see cref="TargetHost"/>.</summary>
    public RemoteCertificateValidationCallback? RemoteCertificateValidationCallback { get; set; }

    internal FrameClientTlsOptions Snapshot()
    {
        var copy = new FrameClientTlsOptions
        {
            TargetHost = TargetHost,
            RemoteCertificateValidationCallback = RemoteCertificateValidationCallback,
        };
        copy.ClientCertificates.AddRange(ClientCertificates);
        return copy;
    }

    internal SslClientAuthenticationOptions ToAuthenticationOptions(string host) => new()
    {
        TargetHost = TargetHost ?? host,
        ClientCertificates = ClientCertificates.Count > 0 ? ClientCertificates : null,
        RemoteCertificateValidationCallback = RemoteCertificateValidationCallback,
    };
}
