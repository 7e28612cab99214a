namespace KestrelFrames.Server;

/// <summary>
/// <c>KestrelFrames.Server healthcheck [url]</c>: asks the local /health/live and exits 0 when it answers 2xx
/// within 2 s, else 1. Container images without curl use it for HEALTHCHECK.
/// </summary>
internal static class HealthCheckCommand
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string? url)
    {
        Uri target = url is not null ? new Uri(url) : DefaultTarget();
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

    /// <summary>The Http endpoint from the same configuration the server reads, on loopback.</summary>
    private static Uri DefaultTarget()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        string url = configuration["Kestrel:Endpoints:Http:Url"] ?? "http://127.0.0.1:8080";

        // Kestrel accepts wildcard hosts (http://*:8080, http://+:8080) that are not valid URIs: any host will do,
        // as the check always goes to loopback.
        url = url.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal);
        return new UriBuilder(new Uri(url)) { Host = "127.0.0.1", Path = "/health/live" }.Uri;
    }
}
