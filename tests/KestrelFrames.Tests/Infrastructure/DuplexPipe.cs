using System.IO.Pipelines;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>One side of an in-memory connection: what it reads and what it writes.</summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
