namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// Tests that measure the whole process (allocated bytes, heap size, unobserved task exceptions) run alone, so that
/// other test classes running in parallel cannot add to what they measure.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMeasurements
{
    public const string Name = "Process-wide measurements";
}
