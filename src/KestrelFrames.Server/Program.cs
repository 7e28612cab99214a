using KestrelFrames.Hosting;
using KestrelFrames.Server;
using Microsoft.Extensions.Options;

if (args is ["healthcheck", .. var rest])
{
    return await HealthCheckCommand.RunAsync(rest.FirstOrDefault());
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
