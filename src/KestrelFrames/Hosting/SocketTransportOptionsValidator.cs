using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Hosting;

/// <summary>
/// The <c>SocketTransport</c> section, which both transports read: Kestrel does not check it, and a bad value
/// surfaced as an exception from a pipe or socket at the first bind.
/// </summary>
internal sealed class SocketTransportOptionsValidator : IValidateOptions<SocketTransportOptions>
{
    public const string SectionName = "SocketTransport";

    public ValidateOptionsResult Validate(string? name, SocketTransportOptions options)
    {
        var failures = new List<string>();
        if (options.IOQueueCount is < 0 or > 1024)
        {
            failures.Add($"{SectionName}:{nameof(options.IOQueueCount)} must be between 0 and 1024 (was {options.IOQueueCount}).");
        }

        if (options.Backlog < 1)
        {
            failures.Add($"{SectionName}:{nameof(options.Backlog)} must be at least 1 (was {options.Backlog}).");
        }

        CheckBufferSize(failures, nameof(options.MaxReadBufferSize), options.MaxReadBufferSize);
        CheckBufferSize(failures, nameof(options.MaxWriteBufferSize), options.MaxWriteBufferSize);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckBufferSize(List<string> failures, string key, long? value)
    {
        if (value < 0)
        {
            failures.Add($"{SectionName}:{key} must be a number of bytes, 0 for no limit (was {value}).");
        }
    }
}
