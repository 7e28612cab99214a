using System.Buffers;
using KestrelFrames.Client;
using KestrelFrames.Tests.Infrastructure;
using Xunit.Abstractions;
using static KestrelFrames.Tests.Client.ClientTestKit;

namespace KestrelFrames.Tests.Client;

/// <summary>
/// Counts the bytes the whole process allocates (client, in-process server, sockets) while echoes go through, as the
/// server's own allocation guard does. A request may allocate the copy of its answer that the caller gets, and nothing
/// else; with a writer of the caller's for the answer, nothing at all.
/// </summary>
[Collection(SerialAllocation.Name)]
public sealed class FrameClientAllocationTests(ITestOutputHelper output)
{
    private const int Requests = 20_000;
    private const int Depth = 8;

    /// <summary>The answer the caller gets: a 64-byte array (24 bytes of array header).</summary>
    private const int AnswerBytes = 64 + 24;

    /// <summary>
    /// Slack for the rest of the process (the in-process server, timers): measured at under 1 byte per request. It is
    /// below the smallest object (24 bytes), so any per-request allocation of the client's fails the test.
    /// </summary>
    private const int Slack = 20;

    [Fact]
    public async Task A_request_allocates_no_more_than_the_copy_of_its_answer()
    {
        await using var server = TestFrameServer.Start();
        await using FrameClient client = await ConnectAsync(server);
        byte[] payload = new byte[64];

        double perRequest = await SteadiestAsync(requests => RunAsync(client, payload, requests));

        Assert.True(perRequest < AnswerBytes + Slack, $"{perRequest:F1} bytes allocated per request in the steadiest window.");
    }

    [Fact]
    public async Task A_request_with_a_writer_for_its_answer_allocates_nothing()
    {
        await using var server = TestFrameServer.Start();
        await using FrameClient client = await ConnectAsync(server);
        byte[] payload = new byte[64];
        ArrayBufferWriter<byte>[] answers = [.. Enumerable.Range(0, Depth).Select(_ => new ArrayBufferWriter<byte>(payload.Length))];

        double perRequest = await SteadiestAsync(requests => RunIntoAsync(client, payload, answers, requests));

        Assert.True(perRequest < Slack, $"{perRequest:F1} bytes allocated per request in the steadiest window.");
    }

    /// <summary>
    /// Bytes allocated per request by the whole process, after a warm-up (JIT tiers, the pool, the thread pool).
    /// One-time costs of a young process (a timer's first tick, a late tier-1 compile) can land in a window and add
    /// ~40 bytes a request to it: they are not per request. The lowest of three windows is the steady state; a real
    /// per-request allocation is in all three.
    /// </summary>
    private async Task<double> SteadiestAsync(Func<int, Task> run)
    {
        await run(5_000);
        double perRequest = double.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await run(Requests);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            output.WriteLine($"window {window}: {(double)allocated / Requests:F1} bytes allocated per request ({allocated} for {Requests}).");
            perRequest = Math.Min(perRequest, (double)allocated / Requests);
        }

        return perRequest;
    }

    private static Task RunAsync(FrameClient client, byte[] payload, int requests) =>
        PipelineAsync(requests, _ => client.SendAsync(payload), (_, response) => response.Payload.Length == payload.Length);

    private static Task RunIntoAsync(FrameClient client, byte[] payload, ArrayBufferWriter<byte>[] answers, int requests) =>
        PipelineAsync(
            requests,
            i =>
            {
                answers[i].ResetWrittenCount();
                return client.SendAsync(payload, answers[i]);
            },
            (i, status) => status == FrameResponseStatus.Ok && answers[i].WrittenCount == payload.Length);

    /// <summary>
    /// <see cref="Depth"/> pipelined requests at a time (slot i sent by <paramref name="send"/>, checked by
    /// <paramref name="isRight"/>), kept as ValueTasks, each awaited once: no Task allocations of the test's own.
    /// </summary>
    private static async Task PipelineAsync<T>(int requests, Func<int, ValueTask<T>> send, Func<int, T, bool> isRight)
    {
        var inFlight = new ValueTask<T>[Depth];
        for (int done = 0; done < requests; done += Depth)
        {
            for (int i = 0; i < Depth; i++)
            {
#pragma warning disable CA2012 // Kept to await after all are sent; each is awaited exactly once below.
                inFlight[i] = send(i);
#pragma warning restore CA2012
            }

            for (int i = 0; i < Depth; i++)
            {
                if (!isRight(i, await inFlight[i]))
                {
                    throw new InvalidOperationException("Wrong answer.");
                }
            }
        }
    }
}
