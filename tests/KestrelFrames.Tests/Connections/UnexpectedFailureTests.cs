using System.Buffers;
using System.IO.Pipelines;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace KestrelFrames.Tests.Connections;

/// <summary>
/// A failure that is the server's own bug, not the client's doing, anywhere in a connection: the connection still
/// ends, its write loop is awaited, every slot and budget byte comes back, and one Error line names the connection.
/// </summary>
public sealed class UnexpectedFailureTests
{
    [Fact]
    public async Task A_read_loop_failure_ends_the_connection_returns_its_budget_and_is_logged_once_at_error()
    {
        await using var connection = new InMemoryConnection(transport: t => new FailingTransport(t, failReadNumber: 2));

        await connection.ToServer.WriteAsync(ThreeRequests());

        await connection.Running.WaitAsync(TimeSpan.FromSeconds(30));
        AssertOneErrorNamingTheConnection(connection.Logs);
        await connection.Leaks.AssertNoneAsync();
    }

    [Fact]
    public async Task A_write_failure_ends_the_connection_returns_its_budget_and_is_logged_once_at_error()
    {
        await using var connection = new InMemoryConnection(transport: t => new FailingTransport(t, failWrites: true));

        await connection.ToServer.WriteAsync(ThreeRequests());

        await connection.Running.WaitAsync(TimeSpan.FromSeconds(30));
        AssertOneErrorNamingTheConnection(connection.Logs);
        await connection.Leaks.AssertNoneAsync();
    }

    private static byte[] ThreeRequests() =>
        [.. FrameTestClient.Encode("one"u8), .. FrameTestClient.Encode("two"u8), .. FrameTestClient.Encode("three"u8)];

    private static void AssertOneErrorNamingTheConnection(FakeLogCollector logs)
    {
        FakeLogRecord error = Assert.Single(logs.GetSnapshot(), r => r.Level >= LogLevel.Error);
        Assert.Contains("in-memory", error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.Exception);
    }

    /// <summary>The server's side of the transport, failing where a bug of ours would: on a read, or on every write.</summary>
    private sealed class FailingTransport(IDuplexPipe inner, int failReadNumber = 0, bool failWrites = false) : IDuplexPipe
    {
        public PipeReader Input { get; } = new FailingReader(inner.Input, failReadNumber);

        public PipeWriter Output { get; } = failWrites ? new FailingWriter(inner.Output) : inner.Output;
    }

    private sealed class FailingReader(PipeReader inner, int failReadNumber) : PipeReader
    {
        private int _reads;

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
            ++_reads == failReadNumber ? throw new InvalidOperationException("A bug in the read path.") : inner.ReadAsync(cancellationToken);

        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }

    private sealed class FailingWriter(PipeWriter inner) : PipeWriter
    {
        public override Memory<byte> GetMemory(int sizeHint = 0) => throw new InvalidOperationException("A bug in the write path.");

        public override Span<byte> GetSpan(int sizeHint = 0) => throw new InvalidOperationException("A bug in the write path.");

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }
}
