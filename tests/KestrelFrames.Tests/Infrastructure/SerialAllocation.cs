namespace KestrelFrames.Tests.Infrastructure;

/// <summary>Allocation counts are process-wide: nothing else may run meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialAllocation
{
    public const string Name = "Allocation";
}
