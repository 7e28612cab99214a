using System.Net;
using System.Net.Sockets;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Hosting;

public sealed class ConfigurationErrorTests
{
    [Theory]
    [InlineData("--Frames:Workers=0", "Frames:Workers")]
    [InlineData("--Frames:MaxFrameSize=-1", "Frames:MaxFrameSize")]
    [InlineData("--Frames:QueueCapacity=lots", "Frames:QueueCapacity")]
    [InlineData("--Frames:MaxInFlightPerConnection=0", "Frames:MaxInFlightPerConnection")]
    [InlineData("--Frames:OverloadMode=Drop", "Frames:OverloadMode")]
    [InlineData("--Frames:TransportBlockSize=1024", "Frames:TransportBlockSize")]
    [InlineData("--Frames:Transport=Uring", "Frames:Transport")]
    [InlineData("--Frames:TransportLoops=-1", "Frames:TransportLoops")]
    [InlineData("--Frames:IdleTimeout=30", "Frames:IdleTimeout is a bare number (30), which .NET reads as days; write it as hh:mm:ss")]
    [InlineData("--Frames:ProxyProtocol:HeaderTimeout=5", "Frames:ProxyProtocol:HeaderTimeout is a bare number")]
    [InlineData("--Frames:MaxConection=20000", "Frames:MaxConection is not a setting; did you mean Frames:MaxConnections?")]
    [InlineData("--Frames:Lanes:admin:Priorty=10", "Frames:Lanes:admin:Priorty is not a setting; did you mean Frames:Lanes:admin:Priority?")]
    [InlineData("--HostOptions:ShutdownTimout=00:01:00", "HostOptions:ShutdownTimout is not a setting; did you mean HostOptions:ShutdownTimeout?")]
    [InlineData("--Frames:DrainDelay=00:00:30", "Frames:DrainDelay (00:00:30) must be shorter than HostOptions:ShutdownTimeout (00:00:30)")]
    [InlineData("--HostOptions:ShutdownTimeout=abc", "HostOptions:ShutdownTimeout")]
    [InlineData("--HostOptions:ShutdownTimeout=-00:00:05", "HostOptions:ShutdownTimeout must be positive")]
    [InlineData("--HostOptions:ShutdownTimeout=30", "HostOptions:ShutdownTimeout is a bare number")]
    [InlineData("--SocketTransport:IOQueueCount=abc", "SocketTransport:IOQueueCount")]
    [InlineData("--SocketTransport:MaxReadBufferSize=-5", "SocketTransport:MaxReadBufferSize")]
    [InlineData("--SocketTransport:Backlog=0", "SocketTransport:Backlog")]
    [InlineData("--Kestrel:Endpoints:Frames:Url=http//127.0.0.1:9000", "Kestrel:Endpoints:Frames:Url is not an address")]
    [InlineData("--Kestrel:Endpoints:Frames:Url=http://127.0.0.1:99999", "Kestrel:Endpoints:Frames:Url has port '99999'")]
    [InlineData("--Kestrel:Endpoints:Frames:Url=http://127.0.0.1:abc", "Kestrel:Endpoints:Frames:Url has port 'abc'")]
    [InlineData("--Kestrel:Endpoints:Http:Url=ftp://127.0.0.1:0", "Kestrel:Endpoints:Http:Url must start with http:// or https://")]
    [InlineData("--Kestrel:Endpoints:Http:Url=http://192.0.2.1:0", "Kestrel:Endpoints:Http:Url cannot be bound")]
    [InlineData("--Kestrel:Endpoints:Frames:Url=https://127.0.0.1:0", "Kestrel:Endpoints:Frames:Certificate is not set")]
    [InlineData("--Frames:RateLimit:RequestsPerSecond=-1", "Frames:RateLimit:RequestsPerSecond")]
    [InlineData("--Frames:RateLimit:Burst=-1", "Frames:RateLimit:Burst")]
    [InlineData("--Frames:RateLimit:ConnectionsPerSecond=-1", "Frames:RateLimit:ConnectionsPerSecond")]
    public async Task A_bad_value_stops_the_start_with_one_line_naming_the_key(string argument, string key)
    {
        await using var server = ServerProcess.Start(argument);

        await AssertConfigurationErrorAsync(server, key);
    }

    [Fact]
    public async Task A_missing_frames_endpoint_stops_the_start_naming_the_key()
    {
        await using var server = ServerProcess.Start("--Kestrel:Endpoints:Frames:Url=");

        await AssertConfigurationErrorAsync(server, "Kestrel:Endpoints:Frames:Url");
    }

    [Theory]
    [InlineData("Frames")]
    [InlineData("Http")]
    public async Task A_port_in_use_stops_the_start_naming_the_endpoint_that_has_it(string endpoint)
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        int port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        await using var server = ServerProcess.Start($"--Kestrel:Endpoints:{endpoint}:Url=http://127.0.0.1:{port}");

        await AssertConfigurationErrorAsync(server, $"Kestrel:Endpoints:{endpoint}:Url cannot be bound (was 'http://127.0.0.1:{port}'): address already in use.");
    }

    [Fact]
    public async Task A_certificate_file_that_is_not_there_or_not_a_certificate_is_named()
    {
        string garbage = Path.Combine(Path.GetTempPath(), $"kestrelframes-test-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(garbage, "not a certificate");
        try
        {
            await using var missing = ServerProcess.Start("--Kestrel:Endpoints:Frames:Url=https://127.0.0.1:0", "--Kestrel:Endpoints:Frames:Certificate:Path=/nonexistent/frames.pem");
            await using var unreadable = ServerProcess.Start("--Kestrel:Endpoints:Frames:Url=https://127.0.0.1:0", $"--Kestrel:Endpoints:Frames:Certificate:Path={garbage}", $"--Kestrel:Endpoints:Frames:Certificate:KeyPath={garbage}");

            await AssertConfigurationErrorAsync(missing, "Kestrel:Endpoints:Frames:Certificate:Path names a file that does not exist");
            await AssertConfigurationErrorAsync(unreadable, "Kestrel:Endpoints:Frames:Certificate cannot be read");
        }
        finally
        {
            File.Delete(garbage);
        }
    }

    /// <summary>Exit code 2 and one line naming the key; no stack trace and no host error log anywhere in the output.</summary>
    private static async Task AssertConfigurationErrorAsync(ServerProcess server, string expected)
    {
        int exitCode = await server.WaitForExitAsync();

        string output = server.Output;
        Assert.True(exitCode == 2, $"exit code {exitCode}:\n{output}");
        string[] errors = [.. output.Split('\n').Where(line => line.Contains("configuration error", StringComparison.Ordinal))];
        string error = Assert.Single(errors);
        Assert.StartsWith("kestrelframes: configuration error: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("crit:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
    }
}
