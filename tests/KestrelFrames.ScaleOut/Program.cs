using KestrelFrames.ScaleOut;
using Microsoft.Extensions.Configuration;

// The scale-out test's load client (tests/scale-out/run.sh): pipelines tagged requests through a balancer with
// FrameClient's reconnect-and-resend, checks every echo, and prints a JSON summary when it gets SIGTERM.
//   dotnet KestrelFrames.ScaleOut.dll --port 19300 --connections 32 --depth 8
IConfiguration arguments = new ConfigurationBuilder().AddCommandLine(args).Build();
var options = new RollingLoadOptions
{
    Host = arguments["host"] ?? "127.0.0.1",
    Port = int.Parse(arguments["port"] ?? throw new ArgumentException("--port is required"), System.Globalization.CultureInfo.InvariantCulture),
    Connections = int.Parse(arguments["connections"] ?? "32", System.Globalization.CultureInfo.InvariantCulture),
    Depth = int.Parse(arguments["depth"] ?? "8", System.Globalization.CultureInfo.InvariantCulture),
};

RollingLoadSummary summary = await new RollingLoad(options).RunAsync();
Console.WriteLine(summary.ToJson());
return summary.Passed ? 0 : 1;
