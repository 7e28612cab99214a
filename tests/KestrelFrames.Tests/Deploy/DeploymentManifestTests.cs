using KestrelFrames.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace KestrelFrames.Tests.Deploy;

/// <summary>No cluster here: the manifests are parsed and their load-bearing keys checked against each other.</summary>
public sealed class DeploymentManifestTests
{
    [Theory]
    [InlineData("deploy/k8s/deployment.yaml")]
    [InlineData("deploy/k8s/service.yaml")]
    [InlineData("deploy/k8s/pdb.yaml")]
    [InlineData("deploy/k8s/servicemonitor.yaml")]
    [InlineData("docker-compose.yml")]
    [InlineData("deploy/prometheus/prometheus.yml")]
    [InlineData("deploy/prometheus/alerts.yml")]
    [InlineData("deploy/grafana/provisioning/datasources/prometheus.yml")]
    [InlineData("deploy/grafana/provisioning/dashboards/kestrelframes.yml")]
    public void Every_yaml_file_parses(string path) => Assert.NotEmpty(Load(path));

    [Fact]
    public void The_deployment_probes_the_health_endpoints_and_runs_as_a_non_root_read_only_container()
    {
        YamlMappingNode pod = Pod();
        YamlMappingNode container = (YamlMappingNode)((YamlSequenceNode)pod["containers"])[0];

        Assert.Equal("/health/ready", Scalar(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("/health/live", Scalar(container, "livenessProbe", "httpGet", "path"));
        Assert.Equal("true", Scalar(pod, "securityContext", "runAsNonRoot"));
        Assert.Equal("true", Scalar(container, "securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("false", Scalar(container, "securityContext", "allowPrivilegeEscalation"));
        Assert.Contains(((YamlSequenceNode)container["ports"]).Cast<YamlMappingNode>(), p => Scalar(p, "containerPort") == "9000");
    }

    [Fact]
    public void The_termination_grace_period_outlasts_the_drain_delay_and_the_shutdown_timeout()
    {
        YamlMappingNode pod = Pod();
        YamlMappingNode container = (YamlMappingNode)((YamlSequenceNode)pod["containers"])[0];
        var env = ((YamlSequenceNode)container["env"]).Cast<YamlMappingNode>().ToDictionary(e => Scalar(e, "name"), e => Scalar(e, "value"));

        TimeSpan drainDelay = TimeSpan.Parse(env["Frames__DrainDelay"], System.Globalization.CultureInfo.InvariantCulture);
        TimeSpan shutdownTimeout = TimeSpan.Parse(env["HostOptions__ShutdownTimeout"], System.Globalization.CultureInfo.InvariantCulture);
        int grace = int.Parse(Scalar(pod, "terminationGracePeriodSeconds"), System.Globalization.CultureInfo.InvariantCulture);

        // The shutdown timeout includes the drain delay; Kestrel waits 1 s more after aborting what is left.
        Assert.True(drainDelay > TimeSpan.Zero);
        Assert.True(grace > shutdownTimeout.TotalSeconds + 1, $"terminationGracePeriodSeconds {grace} must exceed {shutdownTimeout.TotalSeconds} + 1");
        Assert.True(int.Parse(Scalar(container, "readinessProbe", "periodSeconds"), System.Globalization.CultureInfo.InvariantCulture) < drainDelay.TotalSeconds);
    }

    [Fact]
    public void The_service_exposes_the_frame_and_http_ports()
    {
        YamlMappingNode service = Load("deploy/k8s/service.yaml")[0];
        var ports = ((YamlSequenceNode)((YamlMappingNode)service["spec"])["ports"]).Cast<YamlMappingNode>().ToList();

        Assert.Contains(ports, p => Scalar(p, "port") == "9000" && Scalar(p, "protocol") == "TCP");
        Assert.Contains(ports, p => Scalar(p, "port") == "8080");
    }

    [Fact]
    public void The_dockerfile_runs_the_shared_publish_script_as_a_non_root_user_with_a_healthcheck()
    {
        string dockerfile = RepositoryFiles.Read("Dockerfile");

        Assert.Contains("RUN bash scripts/publish.sh /app", dockerfile, StringComparison.Ordinal);
        Assert.Contains("USER $APP_UID", dockerfile, StringComparison.Ordinal);
        Assert.Contains("EXPOSE 9000 8080", dockerfile, StringComparison.Ordinal);
        Assert.Contains("STOPSIGNAL SIGTERM", dockerfile, StringComparison.Ordinal);
        Assert.Contains("\"healthcheck\"]", dockerfile, StringComparison.Ordinal);
        Assert.Contains("ENV Frames__DrainDelay=", dockerfile, StringComparison.Ordinal);
        Assert.Contains("ENV Logging__Console__FormatterName=json", dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void Haproxy_checks_readiness_on_the_http_port_and_sends_proxy_v2()
    {
        string config = RepositoryFiles.Read("deploy/haproxy/haproxy.cfg");

        Assert.Contains("mode tcp", config, StringComparison.Ordinal);
        Assert.Contains("option httpchk GET /health/ready", config, StringComparison.Ordinal);
        Assert.Equal(3, config.Split('\n').Count(l => l.TrimStart().StartsWith("server ", StringComparison.Ordinal) && l.Contains("send-proxy-v2", StringComparison.Ordinal)));
    }

    private static YamlMappingNode Pod()
    {
        YamlMappingNode deployment = Load("deploy/k8s/deployment.yaml")[0];
        return (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)deployment["spec"])["template"])["spec"];
    }

    private static List<YamlMappingNode> Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(RepositoryFiles.Read(path));
        stream.Load(reader);
        return [.. stream.Documents.Select(d => (YamlMappingNode)d.RootNode)];
    }

    private static string Scalar(YamlMappingNode node, params string[] path)
    {
        YamlNode current = node;
        foreach (string key in path)
        {
            current = ((YamlMappingNode)current)[key];
        }

        return ((YamlScalarNode)current).Value!;
    }
}
