using KestrelFrames.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KestrelFrames;

/// <summary>Checks the configuration before the host starts, so a mistake ends in one line naming the key.</summary>
public static class FrameServerValidation
{
    /// <summary>
    /// Throws <see cref="OptionsValidationException"/> naming each bad key: a missing or malformed endpoint URL, a
    /// certificate file that does not exist, a value out of range or one that does not parse (in <c>Frames</c>,
    /// <c>HostOptions</c> and <c>SocketTransport</c>), a timeout written as a bare number, a drain delay that leaves
    /// the drain no time. Call it after <c>Build()</c>; the host would otherwise fail at start, with a stack trace.
    /// </summary>
    public static WebApplication ValidateFrameServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        string endpointKey = $"{KestrelEndpointValidator.EndpointsSection}:{FrameServerWebApplicationBuilderExtensions.FramesEndpointName}:Url";
        if (string.IsNullOrEmpty(app.Configuration[endpointKey]))
        {
            throw Failure([$"{endpointKey} is not set: the frame protocol has no endpoint (e.g. http://0.0.0.0:9000)."]);
        }

        var failures = new List<string>();
        KestrelEndpointValidator.Validate(app.Configuration, app.Environment.ContentRootPath, failures);
        BareTimeSpanValidator.Validate(app.Configuration, failures);
        FrameServerOptions? frames = Read<FrameServerOptions>(app.Services, failures);
        HostOptions? host = Read<HostOptions>(app.Services, failures);
        _ = Read<SocketTransportOptions>(app.Services, failures);
        if (frames is not null && host is not null && frames.DrainDelay >= host.ShutdownTimeout)
        {
            failures.Add($"{FrameServerOptions.SectionName}:{nameof(FrameServerOptions.DrainDelay)} ({frames.DrainDelay}) must be shorter than " +
                $"{HostOptionsValidator.SectionName}:{nameof(HostOptions.ShutdownTimeout)} ({host.ShutdownTimeout}), which bounds the delay and the drain after it.");
        }

        return failures.Count == 0 ? app : throw Failure(failures);
    }

    private static T? Read<T>(IServiceProvider services, List<string> failures)
        where T : class
    {
        try
        {
            return services.GetRequiredService<IOptions<T>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            failures.AddRange(ex.Failures);
            return null;
        }
    }

    private static OptionsValidationException Failure(IEnumerable<string> failures) =>
        new(FrameServerOptions.SectionName, typeof(FrameServerOptions), failures);
}
