using System.Globalization;
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

        // The shutdown timeout includes the drain delay; the process was measured gone 1.04 s after a 1 s timeout: a margin.
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

        // scripts/check-publish.sh runs this very line, with this machine's architecture for $TARGETARCH.
        Assert.Matches(@"(?m)^RUN .*bash scripts/publish\.sh /app \$TARGETARCH$", dockerfile);
        Assert.Contains("USER $APP_UID", dockerfile, StringComparison.Ordinal);
        Assert.Contains("EXPOSE 9000 8080", dockerfile, StringComparison.Ordinal);
        Assert.Contains("STOPSIGNAL SIGTERM", dockerfile, StringComparison.Ordinal);
        Assert.Contains("\"healthcheck\"]", dockerfile, StringComparison.Ordinal);
        Assert.Contains("ENV Frames__DrainDelay=", dockerfile, StringComparison.Ordinal);
        Assert.Contains("ENV Logging__Console__FormatterName=json", dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dockerfile_compiles_for_the_target_architecture_onto_a_pinned_chiseled_runtime()
    {
        string dockerfile = RepositoryFiles.Read("Dockerfile");

        Assert.Matches(@"(?m)^FROM --platform=\$BUILDPLATFORM mcr\.microsoft\.com/dotnet/sdk:\d+\.\d+\.\d+-\S+ AS build$", dockerfile);
        Assert.Matches(@"(?m)^FROM mcr\.microsoft\.com/dotnet/aspnet:\d+\.\d+\.\d+-\S*chiseled AS runtime$", dockerfile);
        Assert.Contains("--mount=type=cache,id=nuget,target=/root/.nuget/packages", dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_image_is_pinned_to_a_version()
    {
        YamlMappingNode services = (YamlMappingNode)Load("docker-compose.yml")[0]["services"];
        var images = services.Children.Values.Cast<YamlMappingNode>()
            .Where(service => service.Children.ContainsKey("image"))
            .Select(service => Scalar(service, "image"))
            .Concat(((YamlSequenceNode)Pod()["containers"]).Cast<YamlMappingNode>().Select(container => Scalar(container, "image")))
            .ToList();

        Assert.Equal(4, images.Count);
        Assert.All(images, image => Assert.Matches(@":v?\d+(\.\d+)+[^:/]*$", image));
    }

    [Fact]
    public void Compose_starts_in_health_order_and_sends_the_traces_to_jaeger()
    {
        YamlMappingNode services = (YamlMappingNode)Load("docker-compose.yml")[0]["services"];

        Assert.Equal("service_healthy", Scalar(services, "prometheus", "depends_on", "kestrelframes", "condition"));
        Assert.Equal("service_healthy", Scalar(services, "grafana", "depends_on", "prometheus", "condition"));
        Assert.True(((YamlMappingNode)services["prometheus"]).Children.ContainsKey("healthcheck"));
        Assert.True(services.Children.ContainsKey("jaeger"));
        Assert.Equal("http://jaeger:4317", Scalar(services, "kestrelframes", "environment", "OTEL_EXPORTER_OTLP_ENDPOINT"));
    }

    [Fact]
    public void The_deployment_spreads_its_replicas_over_nodes_and_zones()
    {
        var constraints = ((YamlSequenceNode)Pod()["topologySpreadConstraints"]).Cast<YamlMappingNode>().ToList();

        Assert.Contains(constraints, c => Scalar(c, "topologyKey") == "kubernetes.io/hostname" && Scalar(c, "whenUnsatisfiable") == "DoNotSchedule");
        Assert.Contains(constraints, c => Scalar(c, "topologyKey") == "topology.kubernetes.io/zone");
        Assert.All(constraints, c => Assert.Equal("kestrelframes", Scalar(c, "labelSelector", "matchLabels", "app.kubernetes.io/name")));
    }

    [Fact]
    public void Diagnostics_are_on_with_their_socket_on_the_writable_volume()
    {
        YamlMappingNode pod = Pod();
        YamlMappingNode container = (YamlMappingNode)((YamlSequenceNode)pod["containers"])[0];
        Dictionary<string, string> env = Env(container);
        YamlMappingNode mount = ((YamlSequenceNode)container["volumeMounts"]).Cast<YamlMappingNode>().Single(m => Scalar(m, "mountPath") == env["TMPDIR"]);
        YamlMappingNode volume = ((YamlSequenceNode)pod["volumes"]).Cast<YamlMappingNode>().Single(v => Scalar(v, "name") == Scalar(mount, "name"));

        Assert.Equal("1", env["DOTNET_EnableDiagnostics"]);
        Assert.True(volume.Children.ContainsKey("emptyDir"));
    }

    [Fact]
    public void The_memory_limit_holds_the_worst_case_heap_of_the_settings()
    {
        // The arithmetic beside resources: in deployment.yaml and in docs/operations.md#sizing-a-container. The GC caps
        // its heap at 75 % of a container's limit, and the request budget (x2: ArrayPool rounds up to powers of two),
        // a block per direction on every connection, each connection's objects and the idle pool all live in it.
        const double IdleConnectionBytes = 6_600; // epoll transport, measured: docs/benchmarks.md
        const double IdlePoolBytes = 32.0 * 1024 * 1024; // BlockMemoryPoolFactory's retained bytes, per epoll listener
        YamlMappingNode container = (YamlMappingNode)((YamlSequenceNode)Pod()["containers"])[0];
        Dictionary<string, string> env = Env(container);
        var defaults = new FrameServerOptions();
        double budget = env.TryGetValue("Frames__MaxBufferedBytes", out string? b) ? double.Parse(b, CultureInfo.InvariantCulture) : defaults.MaxBufferedBytes;
        double connections = env.TryGetValue("Frames__MaxConnections", out string? c) ? double.Parse(c, CultureInfo.InvariantCulture) : defaults.MaxConnections;
        double block = env.TryGetValue("Frames__TransportBlockSize", out string? k) ? double.Parse(k, CultureInfo.InvariantCulture) : defaults.TransportBlockSize;

        double heap = (2 * budget) + (connections * ((2 * block) + IdleConnectionBytes)) + IdlePoolBytes;
        double limit = Bytes(Scalar(container, "resources", "limits", "memory"));

        Assert.True(heap <= 0.75 * limit, $"worst-case heap {heap / (1 << 20):F0} MiB > 75 % of the {limit / (1 << 20):F0} MiB limit");
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

    private static Dictionary<string, string> Env(YamlMappingNode container) =>
        ((YamlSequenceNode)container["env"]).Cast<YamlMappingNode>().ToDictionary(e => Scalar(e, "name"), e => Scalar(e, "value"));

    // Kubernetes quantities as the manifests write memory: a number and a binary suffix.
    private static double Bytes(string quantity)
    {
        (string suffix, double factor)[] units = [("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30)];
        foreach ((string suffix, double factor) in units)
        {
            if (quantity.EndsWith(suffix, StringComparison.Ordinal))
            {
                return double.Parse(quantity[..^suffix.Length], CultureInfo.InvariantCulture) * factor;
            }
        }

        return double.Parse(quantity, CultureInfo.InvariantCulture);
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
