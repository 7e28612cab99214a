using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Hosting;

public sealed class MallocArenasTests
{
    [Fact]
    public async Task The_server_caps_glibcs_malloc_arenas_at_two_and_says_so()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var server = ServerProcess.Start();
        await server.FramesEndPoint;

        Assert.Contains("glibc malloc arenas capped at 2", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operators_MALLOC_ARENA_MAX_wins_over_the_servers_cap()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var server = ServerProcess.Run(
            ["--Kestrel:Endpoints:Frames:Url=http://127.0.0.1:0", "--Kestrel:Endpoints:Http:Url=http://127.0.0.1:0"],
            new Dictionary<string, string> { ["MALLOC_ARENA_MAX"] = "4" });
        await server.FramesEndPoint;

        Assert.Contains("MALLOC_ARENA_MAX=4 from the environment", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("capped at 2", server.Output, StringComparison.Ordinal);
    }
}
