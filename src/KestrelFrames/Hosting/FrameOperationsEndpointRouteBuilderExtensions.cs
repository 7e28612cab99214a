using KestrelFrames.Hosting;
using KestrelFrames.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames;

/// <summary>Maps the HTTP operations endpoints. The Frames endpoint never speaks HTTP, so these answer only on the HTTP endpoints.</summary>
public static class FrameOperationsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>/health/live</c>, <c>/health/ready</c>, <c>/health</c> and <c>/metrics</c> in the app's own routing.
    /// <c>AddFrameServer</c> serves them already, in front of the app's middleware; calling this takes them over,
    /// e.g. to put them behind the app's own authorization, and the automatic ones are then not served.
    /// </summary>
    public static IEndpointRouteBuilder MapFrameOperations(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetService<FrameOperationsMapping>() is { } mapping)
        {
            mapping.MappedByApp = true;
        }

        return endpoints.MapOperations();
    }

    /// <summary>The mapping itself, for <see cref="FrameOperationsStartupFilter"/>, which must not count as the app's.</summary>
    internal static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", HealthOptions(FrameHealthTags.Live));
        endpoints.MapHealthChecks("/health/ready", HealthOptions(FrameHealthTags.Ready));
        endpoints.MapHealthChecks("/health", HealthOptions(FrameHealthTags.Ready));

        FrameMetrics metrics = endpoints.ServiceProvider.GetRequiredService<FrameMetrics>();
        endpoints.MapGet("/metrics", context => MetricsEndpoint.WriteAsync(context, metrics));
        return endpoints;
    }

    private static HealthCheckOptions HealthOptions(string tag) => new()
    {
        Predicate = registration => registration.Tags.Contains(tag),
        ResponseWriter = HealthResponseWriter.WriteAsync,
    };
}
