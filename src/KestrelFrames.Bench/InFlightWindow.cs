using System.Numerics;

namespace KestrelFrames.Bench;

/// <summary>
/// What a connection's two loops share about its requests: how many the send loop has sent, how many the receive
/// loop has had answered, and when each request in flight was sent (the open loop: when it was due), in a ring
/// indexed by sequence number. Answers come back in order, so sent minus received is what is in flight.
/// </summary>
internal sealed class InFlightWindow
{
    private const int MinOpenLoopInFlight = 4096;

    private readonly long[] _ring;
    private readonly long _ringMask;

    // Published by the send loop before each write; read by the receive loop.
    private long _sent;

    // Published by the receive loop after each read batch: answers received (any kind).
    private long _received;

    private int _waitingForRoom;

    public InFlightWindow(int depth, bool openLoop)
    {
        // Closed loop: Depth in flight. Open loop: the schedule decides; the ring only bounds memory, and a sender
        // that finds it full waits, which shows as latency (it is measured from the intended send time).
        MaxInFlight = openLoop ? Math.Max(depth, MinOpenLoopInFlight) : depth;
        long ringLength = (long)BitOperations.RoundUpToPowerOf2((ulong)MaxInFlight);
        _ring = new long[ringLength];
        _ringMask = ringLength - 1;
    }

    public long MaxInFlight { get; }

    /// <summary>Requests sent so far, as last published by the send loop.</summary>
    public long Sent => Volatile.Read(ref _sent);

    /// <summary>How many more requests may be sent once <paramref name="sent"/> have been (the send loop's own count).</summary>
    public long Room(long sent) => MaxInFlight - (sent - Volatile.Read(ref _received));

    public void PublishSent(long sent) => Volatile.Write(ref _sent, sent);

    public void PublishReceived(long received) => Volatile.Write(ref _received, received);

    /// <summary>The send loop found no room: asks the receive loop for a wake-up (the exchange is a full fence).</summary>
    public void AskForRoom() => Interlocked.Exchange(ref _waitingForRoom, 1);

    /// <summary>The receive loop returned credits: whether the send loop had asked to be woken for them.</summary>
    public bool TakeRoomRequest() => Interlocked.Exchange(ref _waitingForRoom, 0) != 0;

    public void SetSendTime(long sequence, long timestamp) => _ring[sequence & _ringMask] = timestamp;

    public long SendTime(long sequence) => _ring[sequence & _ringMask];
}
