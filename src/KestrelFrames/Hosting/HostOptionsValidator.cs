using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Hosting;

/// <summary>
/// The host's shutdown timeout bounds the whole drain: a negative one starts fine and then throws at SIGTERM, with no
/// drain at all, so it is refused at start like any Frames key.
/// </summary>
internal sealed class HostOptionsValidator : IValidateOptions<HostOptions>
{
    public const string SectionName = "HostOptions";

    public ValidateOptionsResult Validate(string? name, HostOptions options)
    {
        TimeSpan timeout = options.ShutdownTimeout;
        return timeout <= TimeSpan.Zero || timeout > TimeSpan.FromDays(365)
            ? ValidateOptionsResult.Fail($"{SectionName}:{nameof(HostOptions.ShutdownTimeout)} must be positive, as hh:mm:ss (was {timeout}).")
            : ValidateOptionsResult.Success;
    }
}
