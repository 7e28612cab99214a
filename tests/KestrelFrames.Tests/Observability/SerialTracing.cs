namespace KestrelFrames.Tests.Observability;

/// <summary>
/// The activity source is process-wide, so a tracer provider in one test would see the spans of every other test
/// running at the same time: tracing tests run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTracing
{
    public const string Name = "Tracing";
}
