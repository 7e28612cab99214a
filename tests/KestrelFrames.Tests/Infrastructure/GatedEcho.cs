using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>An echo handler that holds every call until the test opens the gate, and says when the first began.</summary>
internal sealed class GatedEcho
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstCall = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a worker is inside the handler, held by the gate.</summary>
    public Task FirstCall => _firstCall.Task;

    public Action<IServiceCollection> Handler => DelegateFrameHandler.Use(async (frame, _) =>
    {
        _firstCall.TrySetResult();
        await _gate.Task;
        await DelegateFrameHandler.Echo(frame);
    });

    public void Open() => _gate.TrySetResult();
}
