using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Hosting;

/// <summary>The start-up log says how the instance runs: what an operator set, and what it is.</summary>
public sealed class StartupLogTests : IDisposable
{
    private readonly TestCertificate _certificate = new();

    [Fact]
    public async Task The_start_up_log_names_the_version_the_shutdown_timeout_tls_proxy_and_transport_settings()
    {
        var logs = new LogWaiter();
        var settings = _certificate.FramesTlsSettings();
        settings["HostOptions:ShutdownTimeout"] = "00:00:17";
        settings["Frames:ProxyProtocol:Mode"] = "Optional";
        settings["Frames:ProxyProtocol:TrustedProxies:0"] = "10.0.0.0/8";
        settings["SocketTransport:MaxReadBufferSize"] = "524288";
        await using var server = TestFrameServer.Start(settings, logs.Register);

        string version = await logs.WaitForAsync("Information: KestrelFrames ");
        string timeouts = await logs.WaitForAsync("Frame timeouts:");
        string tls = await logs.WaitForAsync("Frames TLS:");
        string proxy = await logs.WaitForAsync("Frames PROXY protocol:");
        string transport = await logs.WaitForAsync("Frames transport:");

        Assert.Matches(@"KestrelFrames \d+\.\d+\.\d+\S* on \.NET \d+", version);
        Assert.Contains("ShutdownTimeout=00:00:17", timeouts, StringComparison.Ordinal);
        Assert.Contains($"certificate CN=localhost ({_certificate.Certificate.Thumbprint}), valid until {_certificate.Certificate.NotAfter.ToUniversalTime():u}", tls, StringComparison.Ordinal);
        Assert.Contains("TlsHandshakeTimeout=00:00:10", tls, StringComparison.Ordinal);
        Assert.Contains("Optional, TrustedProxies=10.0.0.0/8, HeaderTimeout=00:00:05", proxy, StringComparison.Ordinal);
        Assert.Contains("TransportBlockSize=32768, MaxReadBufferSize=524288, MaxWriteBufferSize=65536", transport, StringComparison.Ordinal);
    }

    public void Dispose() => _certificate.Dispose();
}
