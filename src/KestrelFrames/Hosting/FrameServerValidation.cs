using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace KestrelFrames;

/// <summary>Checks the configuration before the host starts, so a mistake ends in one line naming the key.</summary>
public static class FrameServerValidation
{
    /// <summary>
    /// Throws <see cref="OptionsValidationException"/> naming each bad key: a missing Frames endpoint, a value out of
    /// range, or one that does not parse. Call it after <c>Build()</c>; the host would otherwise log the same
    /// failure with a stack trace.
    /// </summary>
    public static WebApplication ValidateFrameServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        string endpointKey = $"Kestrel:Endpoints:{FrameServerWebApplicationBuilderExtensions.FramesEndpointName}:Url";
        if (string.IsNullOrEmpty(app.Configuration[endpointKey]))
        {
            throw Failure($"{endpointKey} is not set: the frame protocol has no endpoint (e.g. http://0.0.0.0:9000).");
        }

        try
        {
            _ = app.Services.GetRequiredService<IOptions<FrameServerOptions>>().Value;
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message names the key and the value: "Failed to convert configuration value 'x' at 'Frames:Workers'...".
            throw Failure(ex.Message);
        }

        return app;
    }

    private static OptionsValidationException Failure(string message) =>
        new(FrameServerOptions.SectionName, typeof(FrameServerOptions), [message]);
}
