using System.Net;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Tests.Hosting;

/// <summary>
/// A host of one's own, written as the package README says, with the public API only: no Program of ours, no
/// appsettings.json. The from-outside check (a new project on the packed packages, on ports 9000 and 8080) is
/// scripts/check-packages.sh.
/// </summary>
public sealed class OwnHostTests : IDisposable
{
    // An empty content root: the test binary's folder holds the shipped server's appsettings.json, with endpoints.
    private readonly string _contentRoot = Directory.CreateTempSubdirectory("kestrelframes-own-host-").FullName;

    public void Dispose() => Directory.Delete(_contentRoot, recursive: true);

    [Fact]
    public void Configuration_that_names_no_endpoint_gets_frames_on_9000_and_http_on_8080()
    {
        WebApplicationBuilder builder = Builder();

        builder.AddFrameServer();

        Assert.Equal("http://0.0.0.0:9000", builder.Configuration["Kestrel:Endpoints:Frames:Url"]);
        Assert.Equal("http://0.0.0.0:8080", builder.Configuration["Kestrel:Endpoints:Http:Url"]);
    }

    [Fact]
    public async Task Configuration_that_names_endpoints_but_not_frames_is_a_configuration_error()
    {
        WebApplicationBuilder builder = Builder(("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:0"));
        builder.AddFrameServer();
        WebApplication app = builder.Build();

        Assert.Null(app.Configuration["Kestrel:Endpoints:Frames:Url"]);
        Assert.Equal(FrameServerHostExtensions.ExitConfigurationError, await app.RunFrameServerAsync());
    }

    [Fact]
    public async Task A_host_on_port_0_tells_its_frame_port_and_serves_the_operations_endpoints_without_a_call()
    {
        WebApplicationBuilder builder = Builder(("Kestrel:Endpoints:Frames:Url", "http://127.0.0.1:0"), ("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:0"));
        builder.Services.AddSingleton<IFrameHandler>(new DelegateFrameHandler(UpperCase));
        builder.AddFrameServer();
        await using WebApplication app = builder.Build();
        await app.StartAsync();

        var frames = (IPEndPoint)Assert.Single(app.Services.GetRequiredService<FrameEndpoints>().EndPoints);
        Assert.NotEqual(0, frames.Port);
        using (var client = await FrameTestClient.ConnectAsync(frames))
        {
            await client.SendFrameAsync("abc"u8);
            Assert.Equal("ABC"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
        }

        using var http = new HttpClient { BaseAddress = HttpAddress(app, frames) };
        using HttpResponseMessage ready = await http.GetAsync("/health/ready");
        using HttpResponseMessage metrics = await http.GetAsync("/metrics");
        using HttpResponseMessage other = await http.GetAsync("/health/other");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("frames_requests_total", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        await app.StopAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_app_that_maps_the_operations_endpoints_itself_serves_them_through_its_own_pipeline(bool mapsThem)
    {
        WebApplicationBuilder builder = Builder(("Kestrel:Endpoints:Frames:Url", "http://127.0.0.1:0"), ("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:0"));
        builder.AddFrameServer();
        await using WebApplication app = builder.Build();
        app.Use((context, next) =>
        {
            context.Response.Headers["X-App-Pipeline"] = "yes";
            return next(context);
        });
        if (mapsThem)
        {
            app.MapFrameOperations();
        }

        await app.StartAsync();
        var frames = (IPEndPoint)Assert.Single(app.Services.GetRequiredService<FrameEndpoints>().EndPoints);
        using var http = new HttpClient { BaseAddress = HttpAddress(app, frames) };
        using HttpResponseMessage ready = await http.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(mapsThem, ready.Headers.Contains("X-App-Pipeline"));
        await app.StopAsync();
    }

    [Theory]
    [InlineData("Frames:Workers", "0")]
    [InlineData("HostOptions:ShutdownTimeout", "abc")]
    [InlineData("SocketTransport:Backlog", "0")]
    [InlineData("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:abc")]
    public async Task A_bad_value_makes_RunFrameServerAsync_return_exit_code_2_and_never_binds(string key, string value)
    {
        WebApplicationBuilder builder = Builder(("Kestrel:Endpoints:Frames:Url", "http://127.0.0.1:0"), ("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:0"), (key, value));
        builder.AddFrameServer();

        // Build() itself must not throw: the host reads HostOptions there, and a stack trace would be all it could give.
        WebApplication app = builder.Build();
        FrameEndpoints endpoints = app.Services.GetRequiredService<FrameEndpoints>();

        Assert.Equal(FrameServerHostExtensions.ExitConfigurationError, await app.RunFrameServerAsync());
        Assert.Empty(endpoints.EndPoints);
    }

    [Fact]
    public async Task A_host_started_without_RunFrameServerAsync_still_refuses_a_bad_value_by_name()
    {
        WebApplicationBuilder builder = Builder(("Kestrel:Endpoints:Frames:Url", "http://127.0.0.1:0"), ("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:0"), ("HostOptions:ShutdownTimeout", "abc"));
        builder.AddFrameServer();
        await using WebApplication app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("HostOptions:ShutdownTimeout", error.Message, StringComparison.Ordinal);
    }

    private WebApplicationBuilder Builder(params (string Key, string Value)[] settings)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = _contentRoot });
        var values = new Dictionary<string, string?>();
        foreach (var (key, value) in settings)
        {
            values[key] = value; // a later setting of the same key wins, as in configuration
        }

        builder.Configuration.AddInMemoryCollection(values);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        return builder;
    }

    // The app's URLs are every endpoint's, the Frames one included: the HTTP one is the other.
    private static Uri HttpAddress(WebApplication app, IPEndPoint frames) =>
        app.Urls.Select(url => new Uri(url)).Single(url => url.Port != frames.Port);

    private static ValueTask UpperCase(FrameContext frame, CancellationToken cancellationToken)
    {
        ReadOnlySpan<byte> request = frame.Request.Span;
        Span<byte> answer = frame.Response.GetSpan(request.Length);
        for (int i = 0; i < request.Length; i++)
        {
            answer[i] = request[i] is >= (byte)'a' and <= (byte)'z' ? (byte)(request[i] - 32) : request[i];
        }

        frame.Response.Advance(request.Length);
        return ValueTask.CompletedTask;
    }
}
