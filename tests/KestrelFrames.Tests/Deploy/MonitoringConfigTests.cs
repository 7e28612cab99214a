using System.Text.RegularExpressions;
using KestrelFrames.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace KestrelFrames.Tests.Deploy;

/// <summary>
/// The alert rules and the dashboard name series the server really exposes, and every alert leads to its runbook:
/// a renamed metric or a missing section fails here, not on a quiet dashboard in production.
/// </summary>
public sealed partial class MonitoringConfigTests
{
    [Theory]
    [InlineData("deploy/prometheus/alerts.yml")]
    [InlineData("deploy/grafana/kestrelframes.json")]
    public async Task Every_series_the_file_names_is_on_metrics(string path)
    {
        await using var server = TestFrameServer.Start();
        string exposition = await server.Http.GetStringAsync("/metrics");
        var exposed = exposition.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')[2]).ToHashSet();

        var named = SeriesName().Matches(RepositoryFiles.Read(path)).Select(m => m.Groups[1].Value)
            .Select(name => HistogramSuffix().Replace(name, "")).Distinct().ToList();

        Assert.NotEmpty(named);
        Assert.All(named, name => Assert.Contains(name, exposed));
    }

    [Fact]
    public void Every_alert_has_a_runbook_section_in_the_operations_guide()
    {
        var anchors = RepositoryFiles.Read("docs/operations.md").Split('\n')
            .Where(l => l.StartsWith('#'))
            .Select(l => Regex.Replace(l.TrimStart('#').Trim().ToLowerInvariant(), @"[^a-z0-9 -]", "").Replace(' ', '-'))
            .ToHashSet();
        var stream = new YamlStream();
        using (var reader = new StringReader(RepositoryFiles.Read("deploy/prometheus/alerts.yml")))
        {
            stream.Load(reader);
        }

        var rules = ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)stream.Documents[0].RootNode)["groups"])[0])["rules"])
            .Cast<YamlMappingNode>().ToList();

        Assert.NotEmpty(rules);
        Assert.All(rules, rule =>
        {
            string url = ((YamlScalarNode)((YamlMappingNode)rule["annotations"])["runbook_url"]).Value!;
            Assert.Contains("docs/operations.md#", url, StringComparison.Ordinal);
            Assert.Contains(url[(url.IndexOf('#', StringComparison.Ordinal) + 1)..], anchors);
        });
    }

    // Our series and the standard process ones; the runtime's and Kestrel's come from their own meters.
    [GeneratedRegex(@"\b((?:frames|process)_[a-z_]+)")]
    private static partial Regex SeriesName();

    [GeneratedRegex("_(bucket|count|sum)$")]
    private static partial Regex HistogramSuffix();
}
