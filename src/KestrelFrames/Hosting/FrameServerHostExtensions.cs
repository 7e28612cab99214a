using System.Net.Sockets;
using System.Security.Cryptography;
using KestrelFrames.Connections;
using KestrelFrames.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KestrelFrames;

/// <summary>Runs a host with the frame server and turns how it ended into a process exit code.</summary>
public static class FrameServerHostExtensions
{
    /// <summary>Exit code: the host stopped and every frame connection drained.</summary>
    public const int ExitDrained = 0;

    /// <summary>Exit code: a configuration error, reported as one line on stderr naming the key; nothing was served.</summary>
    public const int ExitConfigurationError = 2;

    /// <summary>Exit code: the host stopped, but the shutdown timeout cut the drain short and aborted the connections still open.</summary>
    public const int ExitDrainCutShort = 3;

    /// <summary>
    /// Checks the configuration, then runs <paramref name="host"/> until it stops, as <c>RunAsync</c> does, and returns
    /// the process exit code: <see cref="ExitDrained"/>, <see cref="ExitConfigurationError"/> (a bad or missing key,
    /// a port that cannot be bound, a certificate that cannot be read: one line on stderr,
    /// <c>kestrelframes: configuration error: ...</c>, and no stack trace) or <see cref="ExitDrainCutShort"/>.
    /// Use it as a top-level program's last line: <c>return await app.RunFrameServerAsync();</c>.
    /// </summary>
    public static async Task<int> RunFrameServerAsync(this IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);

        // Resolved before running: RunAsync disposes the host, and its services and configuration with it, before
        // the catches below run.
        FrameServerState state = host.Services.GetRequiredService<FrameServerState>();
        IConfiguration configuration = host.Services.GetRequiredService<IConfiguration>();
        try
        {
            FrameServerValidation.Validate(host.Services);
        }
        catch (OptionsValidationException ex)
        {
            await DisposeAsync(host);
            return ConfigurationError(ex.Message);
        }

        try
        {
            await host.RunAsync();
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

        return state.ShutdownTimedOut ? ExitDrainCutShort : ExitDrained;
    }

    private static int ConfigurationError(string message)
    {
        // A configuration mistake is the operator's to fix: one line naming the key, not a stack trace.
        Console.Error.WriteLine($"kestrelframes: configuration error: {message}");
        return ExitConfigurationError;
    }

    private static async ValueTask DisposeAsync(IHost host)
    {
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }
}
