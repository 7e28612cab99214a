using KestrelFrames.Soak;
using Microsoft.Extensions.Configuration;

// The soak test's client side (scripts/soak.sh): hostile and good clients at once against plain and TLS Frames
// endpoints for a duration, then one JSON summary on stdout; exit 0 when no promise of the protocol was broken.
//   dotnet KestrelFrames.Soak.dll cert DIR
//   dotnet KestrelFrames.Soak.dll --plain 127.0.0.1:19700 --tls 127.0.0.1:19701 --tls-cert DIR/soak-cert.pem \
//       --duration 00:01:00 --read-timeout 00:00:02 --write-timeout 00:00:02 --linger-timeout 00:00:02
if (args is ["cert", .. var rest])
{
    return CertificateCommand.Run(rest);
}

SoakOptions options;
try
{
    options = SoakOptions.FromArguments(new ConfigurationBuilder().AddCommandLine(args).Build());
}
catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or IOException or System.Security.Cryptography.CryptographicException)
{
    Console.Error.WriteLine("KestrelFrames.Soak: " + ex.Message);
    return 2;
}

SoakSummary summary = await new SoakRunner(options).RunAsync();
Console.WriteLine(summary.ToJson());

// The same verdict in lines a script can show as they are: why it failed, then the first attempts that went wrong.
foreach (string line in summary.Reasons.Select(r => "FAIL " + r).Concat(summary.Problems))
{
    Console.Error.WriteLine("soak clients: " + line);
}

return summary.Passed ? 0 : 1;
