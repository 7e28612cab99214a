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
    /// <c>HostOptions</c> and <c>SocketTransport</c>), a key under <c>Frames</c> or <c>HostOptions</c> that is not a
    /// setting, a timeout written as a bare number, a drain delay that leaves
    /// the drain no time. <see cref="FrameServerHostExtensions.RunFrameServerAsync"/> runs these checks before the start
    /// and prints a failure in one line; the host runs them again as it starts, so a host started otherwise fails
    /// on the same keys, with a stack trace. Call this after <c>Build()</c> to fail earlier, before the app is set up.
    /// </summary>
    public static WebApplication ValidateFrameServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        Validate(app.Services);
        return app;
    }

    /// <summary>What <see cref="ValidateFrameServer"/> checks, for any host: RunFrameServerAsync runs it before the start.</summary>
    internal static void Validate(IServiceProvider services)
    {
        IConfiguration configuration = services.GetRequiredService<IConfiguration>();
        string endpointKey = $"{KestrelEndpointValidator.EndpointsSection}:{FrameServerWebApplicationBuilderExtensions.FramesEndpointName}:Url";
        if (string.IsNullOrEmpty(configuration[endpointKey]))
        {
            throw Failure([$"{endpointKey} is not set: the frame protocol has no endpoint (e.g. http://0.0.0.0:9000)."]);
        }

        var failures = new List<string>();
        KestrelEndpointValidator.Validate(configuration, services.GetRequiredService<IHostEnvironment>().ContentRootPath, failures);
        ConfigurationKeyValidator.Validate(configuration, failures);
        FrameServerOptions? frames = Read<FrameServerOptions>(services, failures);
        HostOptions? host = ReadSection(configuration, HostOptionsValidator.SectionName, new HostOptionsValidator(), failures);
        _ = ReadSection(configuration, SocketTransportOptionsValidator.SectionName, new SocketTransportOptionsValidator(), failures);
        if (frames is not null && host is not null && frames.DrainDelay >= host.ShutdownTimeout)
        {
            failures.Add($"{FrameServerOptions.SectionName}:{nameof(FrameServerOptions.DrainDelay)} ({frames.DrainDelay}) must be shorter than " +
                $"{HostOptionsValidator.SectionName}:{nameof(HostOptions.ShutdownTimeout)} ({host.ShutdownTimeout}), which bounds the delay and the drain after it.");
        }

        if (failures.Count > 0)
        {
            throw Failure(failures);
        }
    }

    // From the configuration, not IOptions: the copies the host and Kestrel use were bound leniently, inside Build().
    private static T? ReadSection<T>(IConfiguration configuration, string sectionName, IValidateOptions<T> validator, List<string> failures)
        where T : class, new()
    {
        T options;
        try
        {
            options = configuration.GetSection(sectionName).BindStrictly<T>();
        }
        catch (OptionsValidationException ex)
        {
            failures.AddRange(ex.Failures);
            return null;
        }

        ValidateOptionsResult result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            failures.AddRange(result.Failures);
            return null;
        }

        return options;
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
