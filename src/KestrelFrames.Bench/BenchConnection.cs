using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using KestrelFrames.Infrastructure;

namespace KestrelFrames.Bench;

/// <summary>
/// One connection of a run: a send loop and a receive loop over one socket (or TLS stream). Nothing is allocated per
/// request: the send buffer holds a batch of ready-made frames whose stamps are patched in place, send times go
/// to a ring indexed by sequence number, and the receive loop parses every complete answer of each read in place.
/// </summary>
internal sealed class BenchConnection : IDisposable
{
    private const int HeaderLength = FrameHeader.Size;

    private readonly BenchRun _run;
    private readonly BenchTransport _transport;
    private readonly Stream _stream;
    private readonly int _index;
    private readonly int _size;
    private readonly int _frameLength;
    private readonly InFlightWindow _window;
    private readonly EchoPattern _pattern;
    private readonly RequestBatch _batch;
    // Inline: the setter is this connection's receive loop (or the pacer), and running the send loop right there
    // makes "read a batch, parse it, write what its credits allow" one pass on one thread.
    private readonly AsyncSignal _signal = new(runContinuationsAsynchronously: false);
    private readonly LatencyBuffer _latencies;

    // Published by the receive loop after each read batch: of the answers received, those that are not statuses.
    private long _okTotal;
    private long _mismatches;

    // Owned by the send loop.
    private long _sentInWindow;
    private long _txBytesInWindow;
    private long _lagSumTicks;
    private long _lagMaxTicks;

    // Owned by the receive loop.
    private long _okInWindow;
    private long _rxBytesInWindow;

    private Task _completion = Task.CompletedTask;

    private BenchConnection(BenchRun run, Socket socket, Stream stream, int index, ulong runSalt)
    {
        _run = run;
        _transport = new BenchTransport(run, socket, stream, index, _signal);
        _stream = stream;
        _index = index;
        BenchOptions options = run.Options;
        _size = options.Size;
        _frameLength = HeaderLength + _size;
        bool openLoop = run.Schedule is not null;

        _window = new InFlightWindow(options.Depth, openLoop);
        _pattern = new EchoPattern(_size, index, runSalt);
        _batch = new RequestBatch(_pattern, _window.MaxInFlight, openLoop);

        _latencies = run.Latency.CreateBuffer(index);
    }

    public long SentInWindow => _sentInWindow;

    public long TxBytesInWindow => _txBytesInWindow;

    public long OkInWindow => _okInWindow;

    public long RxBytesInWindow => _rxBytesInWindow;

    public long LagSumTicks => _lagSumTicks;

    public long LagMaxTicks => _lagMaxTicks;

    /// <summary>Successful answers so far, warm-up included (for the progress line).</summary>
    public long OkTotal => Volatile.Read(ref _okTotal);

    public long Mismatches => Volatile.Read(ref _mismatches);

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
        Task receiving = Task.Run(ReceiveLoopAsync);
        Task sending = Task.Run(SendLoopAsync);
        _completion = Task.WhenAll(receiving, sending);
    }

    /// <summary>Wakes the send loop: the pacer calls this when requests fall due, the runner at the end.</summary>
    public void Wake() => _signal.Set();

    /// <summary>Closes the socket at once; pending reads and writes end with errors, which no longer count.</summary>
    public void Abort() => _transport.Abort();

    public void Dispose() => _transport.Dispose();

    private async Task SendLoopAsync()
    {
        OpenLoopSchedule? schedule = _run.Schedule;

        // The send loop is the only writer of the sent count: it keeps its own and publishes it.
        long sent = 0;
        try
        {
            while (!_run.Stopping && !_transport.IsDead)
            {
                long now = Stopwatch.GetTimestamp();
                long end = _run.End;
                if (now >= end)
                {
                    break;
                }

                long room = _window.Room(sent);
                long want = room;
                if (schedule is not null)
                {
                    want = Math.Min(schedule.DueCount(_index, now), schedule.DueCount(_index, end - 1)) - sent;
                    if (want > 0 && room <= 0)
                    {
                        // Full ring: ask the receive loop for a wake-up, then look again.
                        _window.AskForRoom();
                        room = _window.Room(sent);
                    }
                }

                int count = (int)Math.Min(Math.Min(want, room), _batch.Capacity);
                if (count <= 0)
                {
                    await _signal.WaitAsync();
                    continue;
                }

                ReadOnlyMemory<byte> frames = _batch.Stamp(sent, count);
                long sentAt = Stopwatch.GetTimestamp();
                bool inWindow = _run.InWindow(sentAt);
                for (long sequence = sent; sequence < sent + count; sequence++)
                {
                    if (schedule is null)
                    {
                        _window.SetSendTime(sequence, sentAt);
                    }
                    else
                    {
                        long intended = schedule.IntendedTime(_index, sequence);
                        _window.SetSendTime(sequence, intended);
                        if (inWindow)
                        {
                            long lag = Math.Max(0, sentAt - intended);
                            _lagSumTicks += lag;
                            _lagMaxTicks = Math.Max(_lagMaxTicks, lag);
                        }
                    }
                }

                // Published before the write: an answer can never arrive before its request is known sent.
                sent += count;
                _window.PublishSent(sent);
                await _stream.WriteAsync(frames);
                if (inWindow)
                {
                    _sentInWindow += count;
                    _txBytesInWindow += (long)count * _size;
                }
            }
        }
        catch (Exception exception)
        {
            _transport.Fail(TransportError.ConnectionError, exception.Message);
        }

        await _transport.CloseSendingAsync();
    }

    private async Task ReceiveLoopAsync()
    {
        int maxFrame = _run.Options.MaxFrame;
        bool verify = _run.Options.Verify;
        var buffer = new ReceiveBuffer(_frameLength);
        long sequence = 0;
        long ok = 0;
        uint reads = 0;
        try
        {
            while (true)
            {
                Memory<byte> free = buffer.GetMemory();

                // A read that finds data waiting completes at once, so under load this loop could keep its thread
                // forever; hand it back to the pool now and then, so the pool's other work (the runner's timers,
                // an in-process server) is not starved.
                if ((++reads & 15) == 0)
                {
                    await Task.Yield();
                }

                int received = await _stream.ReadAsync(free);
                long now = Stopwatch.GetTimestamp();
                if (received == 0)
                {
                    if (!_transport.SendClosed)
                    {
                        _transport.Fail(TransportError.ConnectionClosed, "the server closed the connection");
                    }

                    return;
                }

                if (now >= _run.End)
                {
                    // Draining after the window: read until the server closes, count nothing.
                    buffer.Clear();
                    continue;
                }

                buffer.Advance(received);
                bool inWindow = _run.InWindow(now);
                long before = sequence;
                FrameReadResult result;
                while ((result = buffer.TryRead(maxFrame, out FrameHeader header, out ReadOnlySpan<byte> payload)) != FrameReadResult.Incomplete)
                {
                    if (result == FrameReadResult.TooLarge)
                    {
                        _transport.Fail(TransportError.ResponseTooLarge, $"an answer of {header.PayloadLength} bytes is over --max-frame {maxFrame}");
                        return;
                    }

                    bool isStatus = header.IsStatus;
                    if (isStatus && (payload.IsEmpty || ((FrameStatus)payload[0]).IsConnectionEnding()))
                    {
                        ConnectionStatus(payload, now);
                        return;
                    }

                    if (sequence >= _window.Sent)
                    {
                        _transport.Fail(TransportError.UnexpectedResponse, "an answer arrived with no request outstanding");
                        return;
                    }

                    if (isStatus)
                    {
                        if (_run.Counts(now))
                        {
                            _run.Errors.CountStatus(payload[0]);
                            if (_run.Errors.WantsFirst)
                            {
                                _run.Errors.NoteFirst(Describe(payload));
                            }
                        }
                    }
                    else
                    {
                        if (verify && !_pattern.Matches(payload, sequence) && _run.Counts(now))
                        {
                            Volatile.Write(ref _mismatches, _mismatches + 1);
                            if (_run.FirstMismatch is null)
                            {
                                _run.NoteMismatch(MismatchText(payload, sequence));
                            }
                        }

                        if (inWindow)
                        {
                            _latencies.Record(now - _window.SendTime(sequence));
                            _okInWindow++;
                            _rxBytesInWindow += payload.Length;
                        }

                        ok++;
                    }

                    sequence++;
                }

                if (sequence != before)
                {
                    Volatile.Write(ref _okTotal, ok);
                    _window.PublishReceived(sequence);
                    if (_run.Schedule is null || _window.TakeRoomRequest())
                    {
                        _signal.Set();
                    }
                }
            }
        }
        catch (Exception exception)
        {
            _transport.Fail(TransportError.ConnectionError, exception.Message);
        }
        finally
        {
            _latencies.Flush();
        }
    }

    private string MismatchText(ReadOnlySpan<byte> payload, long sequence)
    {
        int at = _pattern.FirstDifference(payload, sequence);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"connection {_index}, answer {sequence}: {payload.Length} bytes (expected {_size}), first difference at byte {at}");
    }

    private void ConnectionStatus(ReadOnlySpan<byte> payload, long now)
    {
        if (!_transport.TryEnd(now))
        {
            return;
        }

        if (payload.Length == 0)
        {
            _run.Errors.Count(TransportError.MalformedStatus);
            _run.Errors.NoteFirst(string.Create(CultureInfo.InvariantCulture, $"connection {_index}: a status frame without a code"));
        }
        else
        {
            _run.Errors.CountStatus(payload[0]);
            _run.Errors.NoteFirst(Describe(payload));
        }

        _transport.Drop();
    }

    private string Describe(ReadOnlySpan<byte> status)
    {
        string reason = Encoding.UTF8.GetString(status[1..]);
        return string.Create(CultureInfo.InvariantCulture, $"connection {_index}: {BenchErrors.StatusName(status[0])} \"{reason}\"");
    }
}
