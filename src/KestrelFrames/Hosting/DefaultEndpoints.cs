using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;

namespace KestrelFrames.Hosting;

/// <summary>
/// The shipped server's two endpoints, for a host whose configuration names none: without them a new host started
/// with no frame listener and no error, since Kestrel alone listens on HTTP port 5000 and the Frames endpoint exists
/// only by name. Configuration that names any endpoint is taken as it is, and validated.
/// </summary>
internal static class DefaultEndpoints
{
    public const string FramesUrl = "http://0.0.0.0:9000";
    public const string HttpUrl = "http://0.0.0.0:8080";

    public static void AddIfNoneConfigured(IConfigurationBuilder builder, IConfiguration configuration)
    {
        if (configuration.GetSection(KestrelEndpointValidator.EndpointsSection).GetChildren().Any())
        {
            return;
        }

        // As the lowest-priority source, as if a base appsettings.json had them: a source added later that sets the
        // same keys still wins. Configuration endpoints replace `urls`/ASPNETCORE_URLS, and Kestrel logs that it did.
        builder.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                [$"{KestrelEndpointValidator.EndpointsSection}:{FrameServerWebApplicationBuilderExtensions.FramesEndpointName}:Url"] = FramesUrl,
                [$"{KestrelEndpointValidator.EndpointsSection}:Http:Url"] = HttpUrl,
            },
        });
    }
}
