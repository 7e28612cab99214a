using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// The epoll connection's input, on its own over a real loopback socket: a PipeReader with a Pipe's semantics
/// (examined bytes wait for more, a receive paused at the threshold of bytes not yet examined, CancelPendingRead,
/// completion both ways) that frees each block once it is consumed.
/// </summary>
public sealed class EpollPipeReaderTests
{
    private const int BlockSize = EpollConnectionPair.BlockSize;

    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Bytes_the_client_sends_are_read_in_order_and_no_block_is_held_once_they_are_consumed()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync();
        byte[] expected = TestPayloads.Random((5 * BlockSize) + 123, seed: 1);
        await pair.Client.SendAsync(expected, SocketFlags.None);

        ReadOnlySequence<byte> buffer = await pair.ReadAtLeastAsync(expected.Length);

        Assert.Equal(expected, buffer.ToArray());
        pair.Connection.Transport.Input.AdvanceTo(buffer.End);
        await Polling.UntilAsync(() => pair.Pool.RentedBytes == 0, () => $"{pair.Pool.RentedBytes} bytes still rented.");
    }

    [Fact]
    public async Task A_read_that_examined_everything_waits_for_new_bytes_and_then_returns_the_unconsumed_ones_too()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync();
        PipeReader input = pair.Connection.Transport.Input;
        await pair.Client.SendAsync("abcd"u8.ToArray(), SocketFlags.None);
        ReadOnlySequence<byte> first = await pair.ReadAtLeastAsync(4);

        // Consumed one byte, examined all four: the next read waits for a fifth.
        input.AdvanceTo(first.GetPosition(1), first.End);
        ValueTask<ReadResult> reading = input.ReadAsync();
        Assert.False(reading.IsCompleted);
        await pair.Client.SendAsync("e"u8.ToArray(), SocketFlags.None);
        ReadResult result = await reading;

        Assert.Equal("bcde"u8.ToArray(), result.Buffer.ToArray());
        Assert.False(result.IsCompleted || result.IsCanceled);
        input.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task The_receive_pauses_with_the_threshold_unread_and_resumes_once_it_is_consumed()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        const int Pause = 64 * 1024;
        await using var pair = await EpollConnectionPair.StartAsync(inputPause: Pause);
        PipeReader input = pair.Connection.Transport.Input;
        byte[] expected = TestPayloads.Random(4 * 1024 * 1024, seed: 2);
        Task sending = pair.Client.SendAsync(expected, SocketFlags.None);

        // One read, then nothing examined: the input fills to the threshold, then the socket is no longer read.
        await input.ReadAsync();
        await Polling.UntilAsync(() => pair.Connection.ReceivePaused, () => "The receive never paused.");
        Assert.True(input.TryRead(out ReadResult unread));
        Assert.InRange(unread.Buffer.Length, Pause, Pause + (256 * 1024) + BlockSize);

        // Consuming makes room: the receive resumes, and the rest arrives whole and in order.
        var received = new List<byte>(expected.Length);
        ReadOnlySequence<byte> buffer = unread.Buffer;
        while (true)
        {
            received.AddRange(buffer.ToArray());
            input.AdvanceTo(buffer.End);
            if (received.Count >= expected.Length)
            {
                break;
            }

            buffer = (await input.ReadAsync()).Buffer;
        }

        await sending;
        byte[] got = received.ToArray();
        int same = expected.AsSpan().CommonPrefixLength(got);
        Assert.True(same == expected.Length && got.Length == expected.Length, $"The bytes read differ from the bytes sent at {same} of {expected.Length} ({got.Length} read).");
    }

    [Fact]
    public async Task CancelPendingRead_ends_a_waiting_read_or_else_the_next_one_as_canceled()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync();
        PipeReader input = pair.Connection.Transport.Input;

        input.CancelPendingRead();
        ReadResult early = await input.ReadAsync();
        Assert.True(early.IsCanceled);
        input.AdvanceTo(early.Buffer.End);

        ValueTask<ReadResult> waiting = input.ReadAsync();
        Assert.False(waiting.IsCompleted);
        input.CancelPendingRead();
        ReadResult result = await waiting;

        Assert.True(result.IsCanceled);
        Assert.False(result.IsCompleted);
        input.AdvanceTo(result.Buffer.End);

        using var token = new CancellationTokenSource();
        ValueTask<ReadResult> withToken = input.ReadAsync(token.Token);
        await token.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await withToken);
    }

    [Fact]
    public async Task A_reader_that_examined_everything_gets_more_bytes_past_the_threshold_without_consuming_any()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // A frame larger than the pause threshold is kept unconsumed until it is whole: as with a Pipe, the threshold
        // counts bytes not yet examined, or the receive that completes the frame would never come.
        const int Pause = 64 * 1024;
        await using var pair = await EpollConnectionPair.StartAsync(inputPause: Pause);
        byte[] expected = TestPayloads.Random(16 * Pause, seed: 3);
        Task sending = pair.Client.SendAsync(expected, SocketFlags.None);

        ReadOnlySequence<byte> unconsumed = await pair.ReadAtLeastAsync(expected.Length).WaitAsync(s_hangGuard);

        Assert.Equal(expected, unconsumed.ToArray());
        pair.Connection.Transport.Input.AdvanceTo(unconsumed.End);
        await sending;
    }

    [Fact]
    public async Task The_client_closing_its_side_completes_the_read_after_the_last_bytes()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync();
        await pair.Client.SendAsync("last"u8.ToArray(), SocketFlags.None);
        pair.Client.Shutdown(SocketShutdown.Send);

        ReadOnlySequence<byte> buffer = await pair.ReadAtLeastAsync(int.MaxValue);
        ReadResult end = await pair.Connection.Transport.Input.ReadAsync();

        Assert.Equal("last"u8.ToArray(), buffer.ToArray());
        Assert.True(end.IsCompleted);
    }

    [Fact]
    public async Task A_reset_fails_the_read_with_the_reset()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync();
        ValueTask<ReadResult> waiting = pair.Connection.Transport.Input.ReadAsync();
        pair.Client.LingerState = new LingerOption(enable: true, seconds: 0);
        pair.Client.Close();

        await Assert.ThrowsAsync<ConnectionResetException>(async () => await waiting);
    }

    [Fact]
    public async Task Completing_the_reader_frees_every_block_it_held_unconsumed()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync();
        await pair.Client.SendAsync(new byte[3 * BlockSize], SocketFlags.None);
        await pair.ReadAtLeastAsync(3 * BlockSize);
        Assert.True(pair.Pool.RentedBytes >= 3 * BlockSize);

        await pair.Connection.Transport.Input.CompleteAsync();

        await Polling.UntilAsync(() => pair.Pool.RentedBytes == 0, () => $"{pair.Pool.RentedBytes} bytes still rented.");
    }
}
