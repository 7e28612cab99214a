using System.Text.Json.Nodes;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Hosting;

/// <summary>
/// The server binary in its own folder, as deployed, and its appsettings.json edited while it runs: what an operator
/// does. The reload comes from the real file watcher, so every step waits for the server's own log line about it.
/// </summary>
public sealed class LiveConfigurationProcessTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kestrelframes-live-" + Guid.NewGuid().ToString("N"));

    private string SettingsPath => Path.Combine(_directory, "appsettings.json");

    [Fact]
    public async Task A_limit_edited_in_appsettings_json_applies_without_a_restart_and_an_invalid_edit_is_refused_and_logged()
    {
        await using var server = ServerProcess.StartDeployed(_directory);
        var frames = await server.FramesEndPoint;
        using var first = await FrameTestClient.ConnectAsync(frames);
        await AssertEchoAsync(first);

        EditFrames(section => section["MaxConnections"] = 1);
        await WaitForLineAsync(server, "Frames configuration changed; new work uses Frames:MaxConnections 10000 -> 1.");
        await AssertRefusedAsync(frames);

        // A value that does not parse: refused, named, and the limit of 1 still holds.
        EditFrames(section => section["MaxConnections"] = "abc");
        await WaitForLineAsync(server, "Frames configuration change refused; the running values stay: Failed to convert configuration value 'abc' at 'Frames:MaxConnections'");
        await AssertRefusedAsync(frames);

        // One out of range, with a live key in the same edit: both refused.
        EditFrames(section =>
        {
            section["MaxConnections"] = 0;
            section["MaxFrameSize"] = 16;
        });
        await WaitForLineAsync(server, "Frames:MaxConnections must be between 1 and 10000000 (was 0).");
        await AssertRefusedAsync(frames);
        await AssertEchoAsync(first, size: 1024);

        // A key that only a restart applies: logged as such, while the live key beside it applies.
        EditFrames(section =>
        {
            section["MaxConnections"] = 2;
            section["MaxFrameSize"] = 1048576;
            section["Workers"] = 8;
        });
        await WaitForLineAsync(server, "Frames configuration change needs a restart; the running values stay until then: Frames:Workers 64 -> 8.");
        await WaitForLineAsync(server, "Frames:MaxConnections 1 -> 2.");
        using var second = await FrameTestClient.ConnectAsync(frames);
        await AssertEchoAsync(second);
        Assert.DoesNotContain("Unhandled exception", server.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>Saves the file whole, by a rename over it, as editors and ConfigMap updates do: a reload never reads half a file.</summary>
    private void EditFrames(Action<JsonObject> edit)
    {
        JsonNode settings = JsonNode.Parse(File.ReadAllText(SettingsPath))!;
        edit(settings["Frames"]!.AsObject());
        string next = SettingsPath + ".next";
        File.WriteAllText(next, settings.ToJsonString());
        File.Move(next, SettingsPath, overwrite: true);
    }

    private static Task WaitForLineAsync(ServerProcess server, string fragment) =>
        Polling.UntilAsync(() => server.Output.Contains(fragment, StringComparison.Ordinal), () => $"no line with '{fragment}' in:\n{server.Output}");

    private static async Task AssertRefusedAsync(System.Net.IPEndPoint frames)
    {
        using var over = await FrameTestClient.ConnectAsync(frames);
        Assert.Equal(FrameStatus.ConnectionLimit, (await over.ReadRequiredFrameAsync()).Status);
    }

    private static async Task AssertEchoAsync(FrameTestClient client, int size = 5)
    {
        await client.SendFrameAsync(new byte[size]);
        Frame answer = await client.ReadRequiredFrameAsync();
        Assert.False(answer.IsStatus, $"expected the echo, got {answer}");
        Assert.Equal(size, answer.Payload.Length);
    }
}
