using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace KestrelFrames.Bench;

/// <summary>The command line: options, their validation, and the action that runs the benchmark and prints it.</summary>
internal sealed class BenchCli
{
    public const int ExitUsage = 1;

    private static readonly BenchOptions s_defaults = new();

    private readonly Option<string> _host = new("--host")
    {
        Description = "Server address or name.",
        DefaultValueFactory = _ => s_defaults.Host,
    };

    private readonly Option<int> _port = new("--port")
    {
        Description = "Server frame port.",
        DefaultValueFactory = _ => s_defaults.Port,
    };

    private readonly Option<int> _connections = new("--connections", "-c")
    {
        Description = "Concurrent connections.",
        DefaultValueFactory = _ => s_defaults.Connections,
    };

    private readonly Option<int> _depth = new("--depth", "-d")
    {
        Description = "Closed loop: pipelined requests in flight per connection (send D, then one more per answer). " +
            "Open loop: the least in-flight room per connection (at least 4096).",
        DefaultValueFactory = _ => s_defaults.Depth,
    };

    private readonly Option<int> _size = new("--size", "-s")
    {
        Description = "Request payload bytes (0 sends heartbeats).",
        DefaultValueFactory = _ => s_defaults.Size,
    };

    private readonly Option<TimeSpan?> _duration = DurationOption("--duration", "Measured time, e.g. 10s, 500ms, 2m. [default: 10s]");

    private readonly Option<TimeSpan?> _warmup = DurationOption("--warmup", "Load before measuring, not counted in requests or latency. [default: 2s]");

    private readonly Option<double?> _rate = new("--rate", "-r")
    {
        Description = "Open loop: total requests per second over all connections, sent at fixed intervals whatever the answers do; " +
            "latency counts from each request's intended send time (no coordinated omission). Default: closed loop.",
    };

    private readonly Option<bool> _tls = new("--tls") { Description = "Connect with TLS (the server's Frames endpoint is https://)." };

    private readonly Option<bool> _tlsInsecure = new("--tls-insecure")
    {
        Description = "With TLS, accept any server certificate (self-signed test certificates). Implies --tls.",
    };

    private readonly Option<bool> _verify = new("--verify")
    {
        Description = "Check every answer is the echo of its request (per-connection stamp + pattern); count mismatches.",
    };

    private readonly Option<bool> _json = new("--json") { Description = "Print one JSON object to stdout instead of the table." };

    private readonly Option<int> _maxFrame = new("--max-frame")
    {
        Description = "Largest answer accepted, in bytes; a longer length header is a protocol error.",
        DefaultValueFactory = _ => BenchOptions.DefaultMaxFrame,
    };

    public BenchCli()
    {
        Root = new RootCommand(
            "Load generator for the KestrelFrames length-prefixed protocol. Exit codes: 0 ok, 1 usage, " +
            "2 errors (status frames, dropped connections) or failed connects, 3 echo mismatches.");
        foreach (Option option in new Option[] { _host, _port, _connections, _depth, _size, _duration, _warmup, _rate, _tls, _tlsInsecure, _verify, _json, _maxFrame })
        {
            Root.Options.Add(option);
        }

        Root.SetAction(RunAsync);
    }

    public RootCommand Root { get; }

    /// <summary>Runs the command line as the tool does, with output to the given writers (the console by default).</summary>
    public static Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        var configuration = new InvocationConfiguration
        {
            // Ctrl+C ends the window early and still prints the result; give the drain time to finish.
            ProcessTerminationTimeout = TimeSpan.FromSeconds(5),
        };
        if (output is not null)
        {
            configuration.Output = output;
        }

        if (error is not null)
        {
            configuration.Error = error;
        }

        return new BenchCli().Root.Parse(args).InvokeAsync(configuration, cancellationToken);
    }

    /// <summary>The options a parse produced.</summary>
    public BenchOptions Bind(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new BenchOptions
        {
            Host = result.GetValue(_host) ?? "",
            Port = result.GetValue(_port),
            Connections = result.GetValue(_connections),
            Depth = result.GetValue(_depth),
            Size = result.GetValue(_size),
            Duration = result.GetValue(_duration) ?? s_defaults.Duration,
            Warmup = result.GetValue(_warmup) ?? s_defaults.Warmup,
            Rate = result.GetValue(_rate),
            Tls = result.GetValue(_tls) || result.GetValue(_tlsInsecure),
            TlsInsecure = result.GetValue(_tlsInsecure),
            Verify = result.GetValue(_verify),
            MaxFrame = result.GetValue(_maxFrame),
        };
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        TextWriter output = parseResult.InvocationConfiguration.Output;
        TextWriter error = parseResult.InvocationConfiguration.Error;
        BenchOptions options = Bind(parseResult) with
        {
            Progress = error,
            ProgressIsTerminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected,
        };
        if (options.Validate() is { } problem)
        {
            await error.WriteLineAsync("kestrelframes-bench: " + problem);
            return ExitUsage;
        }

        BenchResult result;
        try
        {
            result = await BenchRunner.RunAsync(options, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("kestrelframes-bench: cancelled while connecting");
            return BenchResult.ExitErrors;
        }
        catch (System.Net.Sockets.SocketException exception)
        {
            // Name resolution failed: nothing to connect to.
            await error.WriteLineAsync("kestrelframes-bench: " + exception.Message);
            return BenchResult.ExitErrors;
        }

        if (parseResult.GetValue(_json))
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(result, BenchJsonContext.Default.BenchResult));
        }
        else
        {
            await output.WriteAsync(ResultTable.Format(result));
        }

        await output.FlushAsync(CancellationToken.None);
        if (result.ExitCode != BenchResult.ExitOk)
        {
            await error.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"kestrelframes-bench: exit {result.ExitCode}: errors {result.Errors}, failed connects {result.FailedConnects}, mismatches {result.Mismatches}"));
        }

        return result.ExitCode;
    }

    private static Option<TimeSpan?> DurationOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "duration",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (DurationParser.TryParse(text, out TimeSpan value))
            {
                return value;
            }

            result.AddError($"Cannot parse '{text}' as a duration for {name}: use e.g. 10s, 500ms, 2m or 00:00:10.");
            return default;
        },
    };
}
