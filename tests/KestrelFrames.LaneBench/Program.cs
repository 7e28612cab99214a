using KestrelFrames;
using KestrelFrames.LaneBench;

// The server of the priority-lane measurement (docs/benchmarks.md, "Priority lanes"): KestrelFrames with a handler
// that spends LaneBench:WorkMicroseconds of CPU per request before echoing, and a classifier that puts payloads of
// at most LaneBench:HighMaxSize bytes in lane "high", so two kestrelframes-bench processes with different --size
// drive the two lanes. LaneBench:Classifier=false registers no classifier: one lane, as without the feature.
//   dotnet KestrelFrames.LaneBench.dll --Kestrel:Endpoints:Frames:Url=http://127.0.0.1:19950 \
//     --Frames:Workers=4 --Frames:Lanes:high:Priority=1 --Frames:Lanes:high:ReservedWorkers=1
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSingleton<IFrameHandler>(new WorkingEchoHandler(builder.Configuration.GetValue("LaneBench:WorkMicroseconds", 100)));
if (builder.Configuration.GetValue("LaneBench:Classifier", true))
{
    builder.Services.AddSingleton<IFrameLaneClassifier>(new SizeLaneClassifier(builder.Configuration.GetValue("LaneBench:HighMaxSize", 16)));
}

builder.AddFrameServer();
WebApplication app = builder.Build().ValidateFrameServer();
app.MapFrameOperations();
await app.RunFrameServerAsync();
