using System.Diagnostics;
using System.Globalization;
using System.Text;
using KestrelFrames.Primitives;

namespace KestrelFrames.Bench;

/// <summary>
/// A connection's receive loop: frames every complete answer of each read in place, in order (answer n is for
/// request n), verifies it when asked, records its latency, counts statuses, and returns the answers' room to the
/// send loop once per read. It ends when the server closes the connection, or on a closing status or an error.
/// </summary>
internal sealed class AnswerReceiver
{
    private readonly BenchRun _run;
    private readonly BenchTransport _transport;
    private readonly Stream _stream;
    private readonly InFlightWindow _window;
    private readonly AsyncSignal _wakeup;
    private readonly EchoPattern _pattern;
    private readonly LatencyBuffer _latencies;
    private readonly int _index;
    private readonly int _size;

    // Published after each read batch: of the answers received, those that are not statuses.
    private long _okTotal;
    private long _mismatches;

    // Owned by the receive loop.
    private long _okInWindow;
    private long _rxBytesInWindow;

    public AnswerReceiver(BenchRun run, BenchTransport transport, InFlightWindow window, AsyncSignal wakeup, EchoPattern pattern, int index)
    {
        _run = run;
        _transport = transport;
        _stream = transport.Stream;
        _window = window;
        _wakeup = wakeup;
        _pattern = pattern;
        _index = index;
        _size = pattern.Size;
        _latencies = run.Latency.CreateBuffer(index);
    }

    public long OkInWindow => _okInWindow;

    public long RxBytesInWindow => _rxBytesInWindow;

    /// <summary>Successful answers so far, warm-up included (for the progress line).</summary>
    public long OkTotal => Volatile.Read(ref _okTotal);

    public long Mismatches => Volatile.Read(ref _mismatches);

    /// <summary>Runs until the server closes the connection (or it fails); the latencies are flushed at the end.</summary>
    public async Task RunAsync()
    {
        int maxFrame = _run.Options.MaxFrame;
        bool verify = _run.Options.Verify;
        var buffer = new ReceiveBuffer(FrameHeader.Size + _size);
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
                        _wakeup.Set();
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
