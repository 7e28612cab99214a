using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace KestrelFrames.Hosting;

/// <summary>
/// Moves every HTTP request off the transport's I/O thread before any middleware runs. The frame server turns on
/// Kestrel's inline scheduling, which would otherwise run HTTP requests (a /metrics scrape takes milliseconds at
/// 10,000 connections) on the thread that reads every frame connection's socket. Operations traffic is light: one
/// thread-pool hop per request costs nothing that matters.
/// </summary>
internal sealed class ThreadPoolHttpStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(static async (context, nextMiddleware) =>
        {
            await Task.Yield();
            await nextMiddleware(context);
        });
        next(app);
    };
}
