using KestrelFrames;
using KestrelFrames.Server;

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

// Before the host starts its threads, so that they share the capped arenas.
bool arenasCapped = MallocArenas.Apply();

// Exit codes (RunFrameServerAsync's): 0 drained and stopped; 2 a configuration error (one line on stderr naming the
// key); 3 stopped, but the shutdown timeout cut the drain short and aborted the connections still open.
// Content root is the binary's folder, where appsettings.json is copied, also under `dotnet run`.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Logging.AddTimestamps();
builder.AddFrameServer();
WebApplication app = builder.Build();
MallocArenas.Report(app.Logger, arenasCapped);
return await app.RunFrameServerAsync();

/// <summary>The server's entry point; public so that tests can host it with WebApplicationFactory.</summary>
public partial class Program;
