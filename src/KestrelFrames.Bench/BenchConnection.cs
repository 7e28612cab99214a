using System.Net.Sockets;
using KestrelFrames.Primitives;

namespace KestrelFrames.Bench;

/// <summary>
/// One connection of a run: a send loop (<see cref="RequestSender"/>) and a receive loop
/// (<see cref="AnswerReceiver"/>) over one socket or TLS stream (<see cref="BenchTransport"/>), sharing the
/// requests in flight (<see cref="InFlightWindow"/>). Nothing is allocated per request: the send buffer holds a
/// batch of ready-made frames whose stamps are patched in place, send times go to a ring indexed by sequence
/// number, and the receive loop parses every complete answer of each read in place.
/// </summary>
internal sealed class BenchConnection : IDisposable
{
    // Inline: the setter is this connection's receive loop (or the pacer), and running the send loop right there
    // makes "read a batch, parse it, write what its credits allow" one pass on one thread.
    private readonly AsyncSignal _wakeup = new(runContinuationsAsynchronously: false);
    private readonly BenchTransport _transport;
    private readonly RequestSender _sender;
    private readonly AnswerReceiver _receiver;

    private Task _completion = Task.CompletedTask;

    private BenchConnection(BenchRun run, Socket socket, Stream stream, int index, ulong runSalt)
    {
        _transport = new BenchTransport(run, socket, stream, index, _wakeup);
        var window = new InFlightWindow(run.Options.Depth, openLoop: run.Schedule is not null);
        var pattern = new EchoPattern(run.Options.Size, index, runSalt);
        _sender = new RequestSender(run, _transport, window, _wakeup, pattern, index);
        _receiver = new AnswerReceiver(run, _transport, window, _wakeup, pattern, index);
    }

    public long SentInWindow => _sender.SentInWindow;

    public long TxBytesInWindow => _sender.TxBytesInWindow;

    public long OkInWindow => _receiver.OkInWindow;

    public long RxBytesInWindow => _receiver.RxBytesInWindow;

    public long LagSumTicks => _sender.LagSumTicks;

    public long LagMaxTicks => _sender.LagMaxTicks;

    /// <summary>Successful answers so far, warm-up included (for the progress line).</summary>
    public long OkTotal => _receiver.OkTotal;

    public long Mismatches => _receiver.Mismatches;

    /// <summary>Both loops have ended.</summary>
    public Task Completion => _completion;

    public static BenchConnection Create(BenchRun run, Socket socket, Stream stream, int index, ulong runSalt) =>
        new(run, socket, stream, index, runSalt);

    /// <summary>Starts the receive loop and the send loop on the thread pool.</summary>
    /// <remarks>
    /// Never on the caller's synchronization context (a test runner's, say): the loops' continuations, and the
    /// inline hand-off between them, must not be posted to a context with a couple of threads.
    /// </remarks>
    public void Start()
    {
        Task receiving = Task.Run(_receiver.RunAsync);
        Task sending = Task.Run(_sender.RunAsync);
        _completion = Task.WhenAll(receiving, sending);
    }

    /// <summary>Wakes the send loop: the pacer calls this when requests fall due, the runner at the end.</summary>
    public void Wake() => _wakeup.Set();

    /// <summary>Closes the socket at once; pending reads and writes end with errors, which no longer count.</summary>
    public void Abort() => _transport.Abort();

    public void Dispose() => _transport.Dispose();
}
