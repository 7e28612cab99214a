using System.Net.Sockets;
using System.Security.Cryptography;
using KestrelFrames;
using KestrelFrames.Server;
using Microsoft.AspNetCore.Connections;
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

// Exit codes: 0 drained and stopped; 2 a configuration error (one line on stderr naming the key); 3 stopped, but
// the shutdown timeout cut the drain short and aborted the connections still open.
var startFailureLog = new HostStartFailureLogFilter();
WebApplication app;
try
{
    // Content root is the binary's folder, where appsettings.json is copied, also under `dotnet run`.
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.Logging.AddTimestamps();
    startFailureLog.Register(builder.Logging);
    builder.AddFrameServer();
    app = builder.Build().ValidateFrameServer();
}
catch (OptionsValidationException ex)
{
    return ConfigurationError(ex.Message);
}

app.MapFrameOperations();
app.Lifetime.ApplicationStarted.Register(startFailureLog.Started);

// Read now: a failed start disposes the host, and the configuration with it, before the catch below runs.
IConfiguration configuration = app.Configuration;
try
{
    return await app.RunFrameServerAsync() == FrameServerShutdown.Drained ? 0 : 3;
}
catch (OptionsValidationException ex)
{
    // Settings Kestrel reads only as it binds, such as the Frames endpoint's certificate.
    return ConfigurationError(ex.Message);
}
catch (IOException ex) when (ex.InnerException is AddressInUseException)
{
    // Kestrel's wrapper for a bind that found the port taken, on either transport.
    return ConfigurationError(StartupFailures.BindFailure(configuration, SocketError.AddressAlreadyInUse, "address already in use."));
}
catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AccessDenied)
{
    // A bind to an address this machine does not have, or to a privileged port without the right to.
    return ConfigurationError(StartupFailures.BindFailure(configuration, ex.SocketErrorCode, ex.Message + "."));
}
catch (CryptographicException ex)
{
    // Kestrel reads the certificates as it binds, and nothing else at start decrypts or parses keys.
    return ConfigurationError(StartupFailures.CertificateFailure(configuration, ex.Message));
}

static int ConfigurationError(string message)
{
    // A configuration mistake is the operator's to fix: one line naming the key, not a stack trace.
    Console.Error.WriteLine($"kestrelframes: configuration error: {message}");
    return 2;
}

/// <summary>The server's entry point; public so that tests can host it with WebApplicationFactory.</summary>
public partial class Program;
