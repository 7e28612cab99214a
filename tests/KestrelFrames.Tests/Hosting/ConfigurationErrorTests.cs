using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Hosting;

public sealed class ConfigurationErrorTests
{
    [Theory]
    [InlineData("--Frames:Workers=0", "Frames:Workers")]
    [InlineData("--Frames:MaxFrameSize=-1", "Frames:MaxFrameSize")]
    [InlineData("--Frames:QueueCapacity=lots", "Frames:QueueCapacity")]
    [InlineData("--Frames:MaxInFlightPerConnection=0", "Frames:MaxInFlightPerConnection")]
    [InlineData("--Frames:OverloadMode=Drop", "Frames:OverloadMode")]
    [InlineData("--Frames:TransportBlockSize=1024", "Frames:TransportBlockSize")]
    [InlineData("--Frames:Transport=Uring", "Frames:Transport")]
    [InlineData("--Frames:TransportLoops=-1", "Frames:TransportLoops")]
    public async Task A_bad_value_stops_the_start_with_one_line_naming_the_key(string argument, string key)
    {
        await using var server = ServerProcess.Start(argument);

        int exitCode = await server.WaitForExitAsync();

        Assert.Equal(2, exitCode);
        Assert.Contains(key, server.Output, StringComparison.Ordinal);
        Assert.Contains("configuration error", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_frames_endpoint_stops_the_start_naming_the_key()
    {
        await using var server = ServerProcess.Start("--Kestrel:Endpoints:Frames:Url=");

        Assert.Equal(2, await server.WaitForExitAsync());
        Assert.Contains("Kestrel:Endpoints:Frames:Url", server.Output, StringComparison.Ordinal);
    }
}
