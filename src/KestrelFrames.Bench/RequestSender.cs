using System.Diagnostics;
using KestrelFrames.Primitives;

namespace KestrelFrames.Bench;

/// <summary>
/// A connection's send loop: writes, in one write per batch, every request that the room in flight allows (closed
/// loop) or that has fallen due and has room (open loop), recording each request's send (or due) time first.
/// With nothing to send it waits for a wake-up: answers returning room, the pacer, the end of the run or of the
/// connection.
/// </summary>
internal sealed class RequestSender
{
    private readonly BenchRun _run;
    private readonly BenchTransport _transport;
    private readonly Stream _stream;
    private readonly InFlightWindow _window;
    private readonly AsyncSignal _wakeup;
    private readonly SendBuffer _sendBuffer;
    private readonly int _index;
    private readonly int _size;

    // Owned by the send loop.
    private long _sentInWindow;
    private long _txBytesInWindow;
    private long _lagSumTicks;
    private long _lagMaxTicks;

    public RequestSender(BenchRun run, BenchTransport transport, InFlightWindow window, AsyncSignal wakeup, EchoPattern pattern, int index)
    {
        _run = run;
        _transport = transport;
        _stream = transport.Stream;
        _window = window;
        _wakeup = wakeup;
        _index = index;
        _size = pattern.Size;
        _sendBuffer = new SendBuffer(pattern, window.MaxInFlight, openLoop: run.Schedule is not null);
    }

    public long SentInWindow => _sentInWindow;

    public long TxBytesInWindow => _txBytesInWindow;

    public long LagSumTicks => _lagSumTicks;

    public long LagMaxTicks => _lagMaxTicks;

    /// <summary>Runs until the window ends or the connection does, then half-closes.</summary>
    public async Task RunAsync()
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

                int count = (int)Math.Min(Math.Min(want, room), _sendBuffer.Capacity);
                if (count <= 0)
                {
                    await _wakeup.WaitAsync();
                    continue;
                }

                ReadOnlyMemory<byte> frames = _sendBuffer.Stamp(sent, count);
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
}
