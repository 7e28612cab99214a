using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using KestrelFrames.Primitives;

namespace KestrelFrames.Bench;

/// <summary>
/// A connection's socket and stream (TLS or not), and the ways they end: a transport error or a closing status,
/// each counted once per connection and only while the run counts; the half-close after the last request; an
/// abort. Whichever loop ends the connection first closes the socket, so the other loop's pending read or write
/// fails, and wakes the send loop, so a waiting one sees it.
/// </summary>
internal sealed class BenchTransport : IDisposable
{
    private readonly BenchRun _run;
    private readonly Socket _socket;
    private readonly SslStream? _tls;
    private readonly AsyncSignal _sendWakeup;
    private readonly int _index;

    private int _dead;
    private int _sendClosed;

    public BenchTransport(BenchRun run, Socket socket, Stream stream, int index, AsyncSignal sendWakeup)
    {
        _run = run;
        _socket = socket;
        Stream = stream;
        _tls = stream as SslStream;
        _index = index;
        _sendWakeup = sendWakeup;
    }

    public Stream Stream { get; }

    /// <summary>The connection has ended (an error, a closing status, an abort): nothing more is sent or counted.</summary>
    public bool IsDead => Volatile.Read(ref _dead) != 0;

    /// <summary>The send loop has ended and half-closed: a close from the server is now the expected end.</summary>
    public bool SendClosed => Volatile.Read(ref _sendClosed) != 0;

    /// <summary>
    /// Whether the caller ends the connection and counts why: false once the run no longer counts, or when the
    /// connection has already ended. A true caller counts its error, then calls <see cref="Drop"/>.
    /// </summary>
    public bool TryEnd(long now) => _run.Counts(now) && Interlocked.Exchange(ref _dead, 1) == 0;

    /// <summary>Closes the socket at once and wakes the send loop.</summary>
    public void Drop()
    {
        _socket.Dispose();
        _sendWakeup.Set();
    }

    /// <summary>Counts a transport error once per connection and drops the connection; the others go on.</summary>
    public void Fail(TransportError error, string message)
    {
        if (!TryEnd(Stopwatch.GetTimestamp()))
        {
            return;
        }

        _run.Errors.Count(error);
        _run.Errors.NoteFirst(string.Create(CultureInfo.InvariantCulture, $"connection {_index}: {error}: {message}"));
        Drop();
    }

    /// <summary>Half-closes: the server answers what it has, then closes, which ends the receive loop.</summary>
    public async Task CloseSendingAsync()
    {
        Volatile.Write(ref _sendClosed, 1);
        if (IsDead)
        {
            return;
        }

        try
        {
            if (_tls is not null)
            {
                await _tls.ShutdownAsync();
            }

            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception)
        {
            // The connection is going anyway; the receive loop sees how it ends.
        }
    }

    /// <summary>Closes the socket at once; pending reads and writes end with errors, which no longer count.</summary>
    public void Abort()
    {
        Volatile.Write(ref _dead, 1);
        Drop();
    }

    public void Dispose()
    {
        Stream.Dispose();
        _socket.Dispose();
    }
}
