using Microsoft.Extensions.Options;

namespace KestrelFrames.Hosting;

/// <summary>Checks every key at start and names it in the failure, as an operator types it in configuration.</summary>
internal sealed class FrameServerOptionsValidator : IValidateOptions<FrameServerOptions>
{
    public ValidateOptionsResult Validate(string? name, FrameServerOptions options)
    {
        var failures = new List<string>();
        Check(failures, nameof(options.MaxFrameSize), options.MaxFrameSize, 1, int.MaxValue);
        Check(failures, nameof(options.Workers), options.Workers, 1, 100_000);
        Check(failures, nameof(options.QueueCapacity), options.QueueCapacity, 1, 10_000_000);
        Check(failures, nameof(options.MaxInFlightPerConnection), options.MaxInFlightPerConnection, 1, 65_536);
        if (!Enum.IsDefined(options.OverloadMode))
        {
            failures.Add($"{FrameServerOptions.SectionName}:{nameof(options.OverloadMode)} must be Backpressure or Shed (was {options.OverloadMode}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(List<string> failures, string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{FrameServerOptions.SectionName}:{key} must be between {min} and {max} (was {value}).");
        }
    }
}
