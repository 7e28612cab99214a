using KestrelFrames;
using KeyValue.Server;

// The content root is the binary's folder, where appsettings.json is copied, so `dotnet run --project ...` reads the
// sample's settings from whatever directory it is started in (by default the content root is the working directory).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddKeyValueStore();                                // the handler, its store, per-connection sessions
builder.AddFrameServer();                                  // the Frames endpoint, worker pool, limits, /health/*, /metrics
return await builder.Build().RunFrameServerAsync();        // exit 2 with one line on a bad setting, naming the key

/// <summary>The entry point; public so that the tests can host the sample with WebApplicationFactory.</summary>
public partial class Program;
