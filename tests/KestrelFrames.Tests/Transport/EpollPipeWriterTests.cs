using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KestrelFrames.Primitives;
using KestrelFrames.Tests.Infrastructure;
using KestrelFrames.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// The epoll connection's output, on its own over a real loopback socket: a PipeWriter with a Pipe's semantics
/// (backpressure at the pause threshold, CancelPendingFlush, completion) that sends from FlushAsync and holds no
/// block once its bytes are sent.
/// </summary>
public sealed class EpollPipeWriterTests
{
    private const int BlockSize = EpollConnectionPair.BlockSize;

    [Fact]
    public async Task Bytes_flushed_arrive_in_order_and_leave_no_block_rented()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync();
        byte[] expected = TestPayloads.Random(3 * BlockSize + 100, seed: 1);

        // Three small writes and one larger than a block, each flushed: sent by the flush itself.
        PipeWriter output = pair.Connection.Transport.Output;
        output.Write(expected.AsSpan(0, 10));
        output.Write(expected.AsSpan(10, 90));
        Assert.Equal(100, output.UnflushedBytes);
        FlushResult result = await output.FlushAsync();
        await output.WriteAsync(expected.AsMemory(100));

        Assert.False(result.IsCanceled || result.IsCompleted);
        Assert.Equal(expected, await pair.ReceiveAsync(expected.Length));
        Assert.Equal(0, pair.Pool.RentedBytes);
    }

    [Fact]
    public async Task A_flush_waits_only_with_the_pause_threshold_unsent_and_resumes_as_the_client_reads()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync(outputPause: 64 * 1024);
        PipeWriter output = pair.Connection.Transport.Output;
        byte[] chunk = TestPayloads.Random(16 * 1024, seed: 2);

        // The client reads nothing: the kernel's buffers fill, then the writer holds what is left until 64 KiB wait.
        int written = 0;
        ValueTask<FlushResult> flushing;
        do
        {
            flushing = output.WriteAsync(chunk);
            written += chunk.Length;
            Assert.True(written < 64 * 1024 * 1024, "The flush never waited.");
        }
        while (flushing.IsCompleted);

        Assert.True(pair.Pool.RentedBytes >= 64 * 1024, $"A flush waited with {pair.Pool.RentedBytes} bytes held.");

        // Reading makes room: the rest goes out from the loop, and the flush completes.
        Task<byte[]> receiving = pair.ReceiveAsync(written);
        FlushResult result = await flushing;
        byte[] received = await receiving;

        Assert.False(result.IsCanceled || result.IsCompleted);
        for (int offset = 0; offset < written; offset += chunk.Length)
        {
            Assert.True(received.AsSpan(offset, chunk.Length).SequenceEqual(chunk), $"The stream differs in the chunk at {offset}.");
        }

        await Polling.UntilAsync(() => pair.Pool.RentedBytes == 0, () => $"{pair.Pool.RentedBytes} bytes still rented.");
    }

    [Fact]
    public async Task CancelPendingFlush_ends_a_waiting_flush_or_else_the_next_one_as_canceled()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync(outputPause: 64 * 1024);
        PipeWriter output = pair.Connection.Transport.Output;

        output.CancelPendingFlush();
        Assert.True((await output.FlushAsync()).IsCanceled);
        Assert.False((await output.FlushAsync()).IsCanceled);

        ValueTask<FlushResult> waiting = FillUntilAFlushWaits(output);
        output.CancelPendingFlush();
        FlushResult result = await waiting;

        Assert.True(result.IsCanceled);
        Assert.False(result.IsCompleted);
    }

    [Fact]
    public async Task An_abort_ends_a_waiting_flush_as_completed_and_frees_every_block_once_the_writer_completes()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync(outputPause: 64 * 1024);
        PipeWriter output = pair.Connection.Transport.Output;
        ValueTask<FlushResult> waiting = FillUntilAFlushWaits(output);

        pair.Connection.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("test"));

        Assert.True((await waiting).IsCompleted);
        Assert.True((await output.FlushAsync()).IsCompleted);
        output.Write("after the end"u8);
        await output.CompleteAsync();
        await Polling.UntilAsync(() => pair.Pool.RentedBytes == 0, () => $"{pair.Pool.RentedBytes} bytes still rented.");
    }

    [Fact]
    public async Task Completing_sends_what_was_not_flushed_then_a_fin()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync();
        PipeWriter output = pair.Connection.Transport.Output;
        byte[] expected = TestPayloads.Random(BlockSize * 2, seed: 3);

        // Written, never flushed: completing the writer commits it, as a Pipe's Complete does.
        output.Write(expected);
        await output.CompleteAsync();

        Assert.Equal(expected, await pair.ReceiveAsync(expected.Length));
        Assert.Equal(0, await pair.Client.ReceiveAsync(new byte[1], SocketFlags.None));
    }

    [Fact]
    public async Task A_size_hint_larger_than_a_block_is_served_from_the_shared_array_pool()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var pair = await EpollConnectionPair.StartAsync();
        PipeWriter output = pair.Connection.Transport.Output;
        byte[] expected = TestPayloads.Random(BlockSize * 3, seed: 4);

        Memory<byte> memory = output.GetMemory(expected.Length);
        expected.CopyTo(memory);
        output.Advance(expected.Length);
        await output.FlushAsync();

        Assert.True(memory.Length >= expected.Length);
        Assert.Equal(expected, await pair.ReceiveAsync(expected.Length));
    }

    private static ValueTask<FlushResult> FillUntilAFlushWaits(PipeWriter output)
    {
        byte[] chunk = new byte[16 * 1024];
        for (int written = 0; written < 64 * 1024 * 1024; written += chunk.Length)
        {
            ValueTask<FlushResult> flushing = output.WriteAsync(chunk);
            if (!flushing.IsCompleted)
            {
                return flushing;
            }
        }

        throw new InvalidOperationException("The flush never waited.");
    }
}
