namespace KestrelFrames.Tests.Infrastructure;

/// <summary>Reads the server's Prometheus exposition, as scraped from <c>/metrics</c>.</summary>
internal static class MetricsScrape
{
    /// <summary>The value of <paramref name="series"/> (a name with its labels, as exposed) in <paramref name="exposition"/>.</summary>
    public static double Sample(string exposition, string series)
    {
        string? line = exposition.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        Assert.True(line is not null, $"{series} not found in /metrics");
        return double.Parse(line![(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Scrapes <c>/metrics</c> until <paramref name="condition"/> holds, or 500 scrapes have not seen it, and returns the last scrape.</summary>
    public static async Task<string> ScrapeUntilAsync(TestFrameServer server, Func<string, bool> condition)
    {
        for (int attempt = 0; ; attempt++)
        {
            string text = await server.Http.GetStringAsync("/metrics");
            if (condition(text) || attempt == 500)
            {
                return text;
            }

            await Task.Delay(10);
        }
    }
}
