using System.Net;
using KestrelFrames.Primitives;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>The real server (its Program) on real Kestrel, both endpoints on loopback port 0.</summary>
public sealed class TestFrameServer : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;
    private Task? _stopping;

    private TestFrameServer(WebApplicationFactory<Program> factory, IPEndPoint frames, Uri http)
    {
        _factory = factory;
        Leaks = new ResourceLeaks(factory.Services);
        FramesEndPoint = frames;
        Http = new HttpClient { BaseAddress = http };
    }

    public IPEndPoint FramesEndPoint { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _factory.Services;

    /// <summary>What the connections took and have not given back; <see cref="DisposeAsync"/> asserts it is nothing.</summary>
    internal ResourceLeaks Leaks { get; }

    /// <summary>
    /// Starts the server; <paramref name="time"/> replaces the clock that drives the frame timeouts, and
    /// <paramref name="configuration"/> adds sources after the app's own (a <see cref="ReloadableSettings"/>).
    /// </summary>
    public static TestFrameServer Start(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, TimeProvider? time = null, Action<IConfigurationBuilder>? configuration = null)
    {
        var factory = new KestrelFactory().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Kestrel:Endpoints:Frames:Url", "http://127.0.0.1:0");
            builder.UseSetting("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:0");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                builder.UseSetting(key, value);
            }

            if (configuration is not null)
            {
                builder.ConfigureAppConfiguration((_, sources) => configuration(sources));
            }

            builder.ConfigureTestServices(collection =>
            {
                services?.Invoke(collection);
                if (time is not null)
                {
                    collection.Replace(ServiceDescriptor.Singleton(time));
                }
            });
        });

        // UseKestrel() without a port: a port would set PreferHostingUrls and drop the configured endpoints.
        factory.UseKestrel();
        factory.StartServer();

        var frames = (IPEndPoint)factory.Services.GetRequiredService<FrameEndpoints>().EndPoints.Single();
        var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Uri http = addresses.Select(a => new Uri(a)).Single(u => u.Port != frames.Port);
        return new TestFrameServer(factory, frames, http);
    }

    public Task<FrameTestClient> ConnectAsync() => FrameTestClient.ConnectAsync(FramesEndPoint);

    /// <summary>Stops the host gracefully, as the host does on SIGTERM: the drain runs under HostOptions.ShutdownTimeout.</summary>
    public Task StopAsync() => _stopping ??= _factory.DisposeAsync().AsTask();

    /// <summary>Stops the server, then asserts every connection gave back all it took (Netty's leak detection, for the test build).</summary>
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await StopAsync();
        await Leaks.AssertNoneAsync();
    }

    /// <summary>
    /// In Kestrel mode the factory calls UseKestrel after the app's services and ConfigureTestServices, and that adds
    /// Kestrel's own <see cref="IMemoryPoolFactory{T}"/> again, last: the one the socket transport takes. Services added
    /// in CreateHost come after even that, so the transport gets the pool AddFrameServer chose, as in the real host.
    /// </summary>
    private sealed class KestrelFactory : WebApplicationFactory<Program>
    {
        protected override IHost CreateHost(IHostBuilder builder)
        {
            builder.ConfigureServices(services => services.Replace(
                ServiceDescriptor.Singleton<IMemoryPoolFactory<byte>>(sp => sp.GetRequiredService<BlockMemoryPoolFactory>())));
            return base.CreateHost(builder);
        }
    }
}
