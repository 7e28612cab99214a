using KestrelFrames.Client;
using KestrelFrames.Client.Internal;

namespace KestrelFrames.Tests.Client;

/// <summary>The pooled per-request state: its race between the write loop and a cancelling caller, and its reuse.</summary>
public sealed class PendingRequestTests
{
    [Fact]
    public async Task A_request_cancelled_while_its_payload_is_copied_completes_only_once_the_copy_is_done()
    {
        var pool = new PendingRequestPool(4);
        PendingRequest request = pool.Rent();
        using var cancel = new CancellationTokenSource();
        request.Start(PendingRequestKind.Request, "payload"u8.ToArray(), cancel.Token);
        ValueTask<FrameResponse> caller = request.AsValueTask();

        Assert.True(request.TryBeginWrite());
        await cancel.CancelAsync();
        Assert.False(caller.IsCompleted); // The caller may not reuse its buffer yet.

        request.EndWrite();
        Assert.True(caller.IsCompleted);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await caller);
        Assert.False(request.TryRequeue()); // Never resent.
        request.Release(); // The connection drops the answer when it comes.
    }

    [Fact]
    public async Task A_request_cancelled_before_it_is_written_is_skipped_by_the_write_loop()
    {
        var pool = new PendingRequestPool(4);
        PendingRequest request = pool.Rent();
        using var cancel = new CancellationTokenSource();
        request.Start(PendingRequestKind.Request, "payload"u8.ToArray(), cancel.Token);
        ValueTask<FrameResponse> caller = request.AsValueTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await caller);
        Assert.False(request.TryBeginWrite());
        request.Release();
    }

    [Fact]
    public async Task An_answered_request_goes_back_to_the_pool_once_both_the_caller_and_the_connection_are_done()
    {
        var pool = new PendingRequestPool(4);
        PendingRequest request = pool.Rent();
        request.Start(PendingRequestKind.Request, "payload"u8.ToArray(), CancellationToken.None);
        ValueTask<FrameResponse> caller = request.AsValueTask();
        Assert.True(request.TryBeginWrite());
        request.EndWrite();

        request.TrySetResult(new FrameResponse(FrameResponseStatus.Ok, "answer"u8.ToArray()));
        request.Release(); // The connection's share.
        FrameResponse response = await caller; // The caller's share.

        Assert.Equal("answer"u8.ToArray(), response.Payload.ToArray());
        Assert.Same(request, pool.Rent());
    }

    [Fact]
    public async Task A_request_is_completed_once_whoever_comes_first()
    {
        var pool = new PendingRequestPool(4);
        PendingRequest request = pool.Rent();
        request.Start(PendingRequestKind.Request, "payload"u8.ToArray(), CancellationToken.None);
        ValueTask<FrameResponse> caller = request.AsValueTask();

        Assert.True(request.TrySetResult(new FrameResponse(FrameResponseStatus.Busy, default)));
        Assert.False(request.TrySetException(new FrameConnectionClosedException()));

        Assert.Equal(FrameResponseStatus.Busy, (await caller).Status);
        request.Release();
    }
}
