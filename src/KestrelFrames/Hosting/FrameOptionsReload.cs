using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Hosting;

/// <summary>
/// Builds <see cref="FrameServerOptions"/> from the configuration as it is after a reload, with every check that ran
/// at start, and reports what fails instead of throwing it: a reload runs on the configuration's change callback,
/// where an exception would reach no one.
/// </summary>
internal static class FrameOptionsReload
{
    /// <returns>The new options, or null with each failure, naming its key, added to <paramref name="failures"/>.</returns>
    public static FrameServerOptions? Build(IConfiguration configuration, IOptionsFactory<FrameServerOptions> factory, TimeSpan shutdownTimeout, List<string> failures)
    {
        ConfigurationKeyValidator.ValidateFrames(configuration, failures);
        FrameServerOptions? next = null;
        try
        {
            // The strict binding and the validators, as at start.
            next = factory.Create(Options.DefaultName);
        }
        catch (OptionsValidationException ex)
        {
            failures.AddRange(ex.Failures);
        }
        catch (InvalidOperationException ex)
        {
            // The binder's own failure, should one get past the strict binding; its message names the key.
            failures.Add(ex.Message);
        }

        // ValidateFrameServer checks this pair at start; HostOptions are read once, so only DrainDelay can move.
        if (next is not null && next.DrainDelay >= shutdownTimeout)
        {
            failures.Add($"{FrameServerOptions.SectionName}:{nameof(FrameServerOptions.DrainDelay)} ({next.DrainDelay}) must be shorter than " +
                $"{HostOptionsValidator.SectionName}:{nameof(HostOptions.ShutdownTimeout)} ({shutdownTimeout}), which bounds the delay and the drain after it.");
        }

        return failures.Count == 0 ? next : null;
    }
}
