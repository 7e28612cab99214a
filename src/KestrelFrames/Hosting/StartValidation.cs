using Microsoft.Extensions.Hosting;

namespace KestrelFrames.Hosting;

/// <summary>
/// Runs FrameServerValidation as the host starts, before any service binds or serves, so that a host started with
/// plain <c>Run()</c> also refuses a bad key by name (with a stack trace: only RunFrameServerAsync can make it one
/// line, since the exception leaves the host). Some values (HostOptions) are bound leniently inside <c>Build()</c>,
/// and only this check would report them.
/// </summary>
internal sealed class StartValidation(IServiceProvider services) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        FrameServerValidation.Validate(services);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
