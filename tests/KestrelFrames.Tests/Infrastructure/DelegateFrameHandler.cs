using System.Buffers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>A frame handler scripted by the test.</summary>
public sealed class DelegateFrameHandler(Func<FrameContext, CancellationToken, ValueTask> handle) : IFrameHandler
{
    public ValueTask HandleAsync(FrameContext frame, CancellationToken cancellationToken) => handle(frame, cancellationToken);

    public static Action<IServiceCollection> Use(Func<FrameContext, CancellationToken, ValueTask> handle) =>
        services => services.Replace(ServiceDescriptor.Singleton<IFrameHandler>(new DelegateFrameHandler(handle)));

    /// <summary>An echo handler that holds every request until <paramref name="gate"/> completes.</summary>
    public static Action<IServiceCollection> EchoAfter(Task gate) => Use(async (frame, _) =>
    {
        await gate;
        await Echo(frame);
    });

    public static async ValueTask Echo(FrameContext frame)
    {
        frame.Response.Write(frame.Request.Span);
        await Task.CompletedTask;
    }
}
