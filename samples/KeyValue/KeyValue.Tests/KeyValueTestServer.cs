using System.Net;
using KestrelFrames;
using KeyValue.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace KeyValue.Tests;

/// <summary>The sample server (its Program) on real Kestrel sockets, both endpoints on loopback port 0.</summary>
internal sealed class KeyValueTestServer : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;

    private KeyValueTestServer(WebApplicationFactory<Program> factory, IPEndPoint frames)
    {
        _factory = factory;
        FramesEndPoint = frames;
    }

    /// <summary>The address the Frames endpoint is bound to, with the port the system chose.</summary>
    public IPEndPoint FramesEndPoint { get; }

    public IServiceProvider Services => _factory.Services;

    public static KeyValueTestServer Start()
    {
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            // Port 0: the system picks free ports, so test classes run in parallel, and beside a server on 9010.
            builder.UseSetting("Kestrel:Endpoints:Frames:Url", "http://127.0.0.1:0");
            builder.UseSetting("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:0");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
        });

        // Real Kestrel, not the in-memory TestServer, which speaks only HTTP. Without a port: a port here would
        // replace the configured endpoints, Frames included.
        factory.UseKestrel();
        factory.StartServer();

        // FrameEndpoints is how the public API tells the bound address: the real port once the server listens.
        var frames = (IPEndPoint)factory.Services.GetRequiredService<FrameEndpoints>().EndPoints.Single();
        return new KeyValueTestServer(factory, frames);
    }

    public ValueTask<KeyValueClient> ConnectAsync() => KeyValueClient.ConnectAsync(FramesEndPoint.Address.ToString(), FramesEndPoint.Port);

    public ValueTask DisposeAsync() => _factory.DisposeAsync();
}
