using KestrelFrames;
using KestrelFrames.Server;
using Microsoft.Extensions.Options;

if (args is ["healthcheck", .. var rest])
{
    return await HealthCheckCommand.RunAsync(rest.FirstOrDefault());
}

// Socket completions run on the runtime's epoll thread instead of hopping to the thread pool; with Kestrel's
// UnsafePreferInlineScheduling (AddFrameServer's default) the read loop runs there too, and handlers never do: they
// run on the worker pool. The runtime reads this once, at its first socket, so it is set before anything else.
// Measured in docs/benchmarks.md; an operator's own value wins.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

try
{
    // Content root is the binary's folder, where appsettings.json is copied, also under `dotnet run`.
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.AddFrameServer();
    var app = builder.Build().ValidateFrameServer();
    app.MapFrameOperations();
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    // A configuration mistake is the operator's to fix: one line naming the key, not a stack trace.
    Console.Error.WriteLine($"kestrelframes: configuration error: {ex.Message}");
    return 2;
}

/// <summary>The server's entry point; public so that tests can host it with WebApplicationFactory.</summary>
public partial class Program;
