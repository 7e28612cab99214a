using System.IO.Pipelines;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// The server's side of an <see cref="InMemoryConnection"/>, telling the test when the read loop asks for its n-th
/// read: everything the loop did with the reads before (parse, dispatch, stamp its deadlines) is then done.
/// </summary>
internal sealed class ReadCountingTransport(IDuplexPipe inner) : IDuplexPipe
{
    private readonly CountingReader _input = new(inner.Input);

    public PipeReader Input => _input;

    public PipeWriter Output { get; } = inner.Output;

    /// <summary>Completes once the read loop has called ReadAsync <paramref name="count"/> times.</summary>
    public Task WhenReadAsync(int count) => _input.WhenReadAsync(count);

    private sealed class CountingReader(PipeReader inner) : PipeReader
    {
        private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
        private int _reads;

        public Task WhenReadAsync(int count)
        {
            lock (_waiters)
            {
                if (_reads >= count)
                {
                    return Task.CompletedTask;
                }

                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, reached));
                return reached.Task;
            }
        }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            lock (_waiters)
            {
                _reads++;
                foreach ((int count, TaskCompletionSource reached) in _waiters)
                {
                    if (_reads >= count)
                    {
                        reached.TrySetResult();
                    }
                }
            }

            return inner.ReadAsync(cancellationToken);
        }

        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }
}
