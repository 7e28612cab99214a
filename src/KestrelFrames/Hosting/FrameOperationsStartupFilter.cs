using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace KestrelFrames.Hosting;

/// <summary>
/// Serves <c>/health/live</c>, <c>/health/ready</c>, <c>/health</c> and <c>/metrics</c> in front of the app's own
/// pipeline, so a host needs no call to have them; an app that maps them itself (MapFrameOperations, e.g. behind its
/// own authorization) keeps its mapping and this steps aside. Only these paths take the branch: every other request
/// reaches the app's middleware as before.
/// </summary>
internal sealed class FrameOperationsStartupFilter(FrameOperationsMapping mapping) : IStartupFilter
{
    private static readonly PathString[] s_paths = ["/health/live", "/health/ready", "/health", "/metrics"];

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        // Read as the pipeline is built, at start, after the app's own calls: MapFrameOperations has run by now if
        // the app makes it.
        if (!mapping.MappedByApp)
        {
            // A routing pair of its own: before next(app), WebApplication's global route builder is not in place yet.
            app.MapWhen(IsOperationsPath, branch => branch.UseRouting().UseEndpoints(endpoints => endpoints.MapOperations()));
        }

        next(app);
    };

    private static bool IsOperationsPath(HttpContext context) =>
        Array.Exists(s_paths, path => context.Request.Path.Equals(path, StringComparison.OrdinalIgnoreCase));
}
