using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace KestrelFrames.Hosting;

/// <summary>
/// Checks every <c>Kestrel:Endpoints:*</c> URL and certificate file before Kestrel reads them: Kestrel reports a
/// malformed URL or a missing file with a stack trace at start, and binds a port it cannot parse
/// (<c>http://0.0.0.0:abc</c>) as port 80 without a word (dotnet/aspnetcore#24384).
/// </summary>
internal static class KestrelEndpointValidator
{
    public const string EndpointsSection = "Kestrel:Endpoints";

    public static void Validate(IConfiguration configuration, string contentRoot, List<string> failures)
    {
        foreach (IConfigurationSection endpoint in configuration.GetSection(EndpointsSection).GetChildren())
        {
            string key = $"{endpoint.Path}:Url";
            string? url = endpoint["Url"];
            string? problem = string.IsNullOrWhiteSpace(url) ? "is not set" : Problem(url);
            if (problem is not null)
            {
                failures.Add($"{key} {problem}.");
            }

            CheckCertificateFiles(endpoint.GetSection("Certificate"), contentRoot, failures);
        }

        foreach (IConfigurationSection certificate in configuration.GetSection("Kestrel:Certificates").GetChildren())
        {
            CheckCertificateFiles(certificate, contentRoot, failures);
        }
    }

    private static string? Problem(string url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return $"is not an address (was '{url}'): use http://host:port or https://host:port";
        }

        if (!string.Equals(address.Scheme, "http", StringComparison.OrdinalIgnoreCase) && !string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase))
        {
            return $"must start with http:// or https:// (was '{url}')";
        }

        if (address.IsUnixPipe || address.IsNamedPipe)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(address.PathBase))
        {
            return $"must not have a path (was '{url}'): use http://host:port or https://host:port";
        }

        // BindingAddress takes whatever follows the last colon outside brackets as the port, or leaves an unparsable
        // one in the host and binds the scheme's default port instead.
        string authority = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/');
        int colon = authority.LastIndexOf(':');
        if (colon < 0 || colon < authority.LastIndexOf(']'))
        {
            return null;
        }

        string port = authority[(colon + 1)..];
        return int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number <= 65535
            ? null
            : $"has port '{port}', which is not a number from 0 to 65535 (was '{url}')";
    }

    private static void CheckCertificateFiles(IConfigurationSection certificate, string contentRoot, List<string> failures)
    {
        foreach (string name in (string[])["Path", "KeyPath"])
        {
            string? path = certificate[name];
            if (!string.IsNullOrEmpty(path) && !File.Exists(Path.Combine(contentRoot, path)))
            {
                failures.Add($"{certificate.Path}:{name} names a file that does not exist (was '{path}').");
            }
        }
    }
}
