using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>The built server binary in a child process: for exit codes, signals and start-up errors.</summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<IPEndPoint> _framesBound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<int> _listeningPorts = [];

    private ServerProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public int Pid => _process.Id;

    /// <summary>The server on loopback port 0 for both endpoints, with <paramref name="args"/> after.</summary>
    public static ServerProcess Start(params string[] args) =>
        Run(["--Kestrel:Endpoints:Frames:Url=http://127.0.0.1:0", "--Kestrel:Endpoints:Http:Url=http://127.0.0.1:0", .. args]);

    /// <summary>
    /// The server as it is deployed: its binary copied to <paramref name="directory"/> with the repository's
    /// appsettings.json beside it, the file it reads (and watches) there, on loopback port 0 for both endpoints.
    /// </summary>
    public static ServerProcess StartDeployed(string directory, params string[] args)
    {
        CopyServerTo(directory);
        File.Copy(RepositoryFiles.Path("appsettings.json"), Path.Combine(directory, "appsettings.json"), overwrite: true);
        return Run(["--Kestrel:Endpoints:Frames:Url=http://127.0.0.1:0", "--Kestrel:Endpoints:Http:Url=http://127.0.0.1:0", .. args], directory: directory);
    }

    /// <summary>The server binary with exactly <paramref name="args"/>, e.g. a subcommand.</summary>
    public static ServerProcess Run(string[] args, IDictionary<string, string>? environment = null, string? directory = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(directory ?? AppContext.BaseDirectory, "KestrelFrames.Server.dll"));
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var server = new ServerProcess(new Process { StartInfo = info });
        server._process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        server._process.EnableRaisingEvents = true;
        server._process.Exited += (_, _) => server._framesBound.TrySetException(new InvalidOperationException("The server exited before binding:\n" + server.Output));
        return server;
    }

    public Task<IPEndPoint> FramesEndPoint => _framesBound.Task;

    public async Task<Uri> HttpAddressAsync()
    {
        IPEndPoint frames = await FramesEndPoint;
        lock (_output)
        {
            return new Uri($"http://127.0.0.1:{_listeningPorts.First(p => p != frames.Port)}");
        }
    }

    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as a container runtime or Kubernetes sends it.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>The server's assembly, its runtime files and every assembly its deps.json lists, as a publish lays them out.</summary>
    private static void CopyServerTo(string directory)
    {
        Directory.CreateDirectory(directory);
        string[] own = ["KestrelFrames.Server.dll", "KestrelFrames.Server.deps.json", "KestrelFrames.Server.runtimeconfig.json"];
        using JsonDocument deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, own[1])));
        IEnumerable<string> assemblies = deps.RootElement.GetProperty("targets").EnumerateObject()
            .SelectMany(target => target.Value.EnumerateObject())
            .Where(library => library.Value.TryGetProperty("runtime", out _))
            .SelectMany(library => library.Value.GetProperty("runtime").EnumerateObject().Select(asset => Path.GetFileName(asset.Name)));
        foreach (string file in own.Concat(assemblies).Distinct())
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, file), Path.Combine(directory, file), overwrite: true);
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            Match listening = NowListening().Match(line);
            if (listening.Success)
            {
                _listeningPorts.Add(int.Parse(listening.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        Match frames = FramesListening().Match(line);
        if (frames.Success)
        {
            _framesBound.TrySetResult(IPEndPoint.Parse(frames.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"Now listening on: http://[^:]+:(\d+)")]
    private static partial Regex NowListening();

    [GeneratedRegex(@"Frames endpoint listening on ([0-9.:]+)\.")]
    private static partial Regex FramesListening();
}
