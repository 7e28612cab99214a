namespace KestrelFrames.Server;

/// <summary>
/// <c>KestrelFrames.Server healthcheck [url]</c>: asks the local /health/live and exits 0 when it answers 2xx
/// within 2 s, else 1. Container images without curl use it for HEALTHCHECK.
/// </summary>
internal static class HealthCheckCommand
{
    private const string LivePath = "/health/live";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string? url)
    {
        Uri? target = url is not null ? FromArgument(url) : DefaultTarget();
        if (target is null)
        {
            // A probe that cannot run is a failed probe: exit 1 like one, with a line saying why.
            Console.WriteLine($"healthcheck: '{url ?? ConfiguredUrl()}' is not an http:// or https:// URL.");
            return 1;
        }

        using var http = new HttpClient { Timeout = s_timeout };
        try
        {
            using HttpResponseMessage response = await http.GetAsync(target);
            Console.WriteLine($"{target}: {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Console.WriteLine($"{target}: {ex.Message}");
            return 1;
        }
    }

    /// <summary>The URL as given, except that a bare base URL (<c>http://host:port</c>) means its /health/live.</summary>
    private static Uri? FromArgument(string url)
    {
        if (ToUri(url) is not { } uri)
        {
            return null;
        }

        return uri.AbsolutePath == "/" && uri.Query.Length == 0 ? new UriBuilder(uri) { Path = LivePath }.Uri : uri;
    }

    /// <summary>The Http endpoint from the same configuration the server reads, on loopback.</summary>
    private static Uri? DefaultTarget() =>
        ToUri(ConfiguredUrl()) is { } uri ? new UriBuilder(uri) { Host = "127.0.0.1", Path = LivePath }.Uri : null;

    private static string ConfiguredUrl()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        return configuration["Kestrel:Endpoints:Http:Url"] ?? "http://127.0.0.1:8080";
    }

    private static Uri? ToUri(string url)
    {
        // Kestrel accepts wildcard hosts (http://*:8080, http://+:8080) that are not valid URIs; the only host such a
        // URL can be asked on is this one.
        url = url.Replace("://*", "://127.0.0.1", StringComparison.Ordinal).Replace("://+", "://127.0.0.1", StringComparison.Ordinal);
        return Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) ? uri : null;
    }
}
