using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>A self-signed server certificate made at test time, written as a PFX for Kestrel's configuration.</summary>
public sealed class TestCertificate : IDisposable
{
    public const string Password = "test-only";

    public TestCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        PfxPath = Path.Combine(Path.GetTempPath(), $"kestrelframes-test-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(PfxPath, Certificate.Export(X509ContentType.Pfx, Password));
    }

    public X509Certificate2 Certificate { get; }

    public string PfxPath { get; }

    /// <summary>Settings that put the Frames endpoint on TLS with this certificate.</summary>
    public Dictionary<string, string?> FramesTlsSettings() => new()
    {
        ["Kestrel:Endpoints:Frames:Url"] = "https://127.0.0.1:0",
        ["Kestrel:Endpoints:Frames:Certificate:Path"] = PfxPath,
        ["Kestrel:Endpoints:Frames:Certificate:Password"] = Password,
    };

    /// <summary>
    /// Puts <paramref name="next"/>'s certificate in this one's file, as a rotation does: written beside it, then
    /// renamed over it, so a watcher never reads half a file.
    /// </summary>
    public void ReplaceFileWith(TestCertificate next)
    {
        string staging = PfxPath + ".new";
        File.WriteAllBytes(staging, next.Certificate.Export(X509ContentType.Pfx, Password));
        File.Move(staging, PfxPath, overwrite: true);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        File.Delete(PfxPath);
    }
}
