using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KestrelFrames.Soak;

/// <summary>
/// <c>cert DIR</c>: writes a fresh self-signed server certificate for localhost and 127.0.0.1 as
/// <c>DIR/soak-cert.pem</c> and its key as <c>DIR/soak-key.pem</c> (PKCS#8), the two files Kestrel's
/// <c>Certificate:Path</c> and <c>Certificate:KeyPath</c> take. No openssl needed on a fresh machine.
/// </summary>
internal static class CertificateCommand
{
    public const string CertificateFile = "soak-cert.pem";
    public const string KeyFile = "soak-key.pem";

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count != 1)
        {
            Console.Error.WriteLine("usage: KestrelFrames.Soak cert DIR");
            return 2;
        }

        string directory = Directory.CreateDirectory(args[0]).FullName;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));

        // A few minutes back, in case the clocks of the machine's processes disagree; two days is any soak's length.
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
        string certificatePath = Path.Combine(directory, CertificateFile);
        string keyPath = Path.Combine(directory, KeyFile);
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Console.WriteLine(certificatePath);
        Console.WriteLine(keyPath);
        return 0;
    }
}
