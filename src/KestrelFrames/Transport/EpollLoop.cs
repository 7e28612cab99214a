using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace KestrelFrames.Transport;

/// <summary>
/// One event loop: a thread blocked in <c>epoll_wait</c> on an epoll instance of its own, which hands each ready
/// socket's events to its <see cref="IEpollTarget"/> and then runs work posted from other threads (an eventfd wakes
/// it). Registrations carry a <see cref="GCHandle"/> to the target, not the descriptor, so an event can never reach
/// a newer socket that reused a closed one's number; a handle is freed only by work run on this thread, between
/// two waits, so no event still queued in a batch can name a freed handle.
/// </summary>
internal sealed unsafe partial class EpollLoop : IDisposable
{
    private const int MaxEvents = 256;
    // SafeHandles, so no call can reach a descriptor number reused after the loop closed its own.
    private readonly SafeFileHandle _epoll;
    private readonly SafeFileHandle _wake;
    private readonly Thread _thread;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<(Action<object?> Work, object? State)> _work = new();
    private int _wakePending;
    private volatile bool _stopping;
    private int _disposed;

    public EpollLoop(int index, ILogger logger)
    {
        _logger = logger;
        _epoll = new SafeFileHandle(Check(Libc.EpollCreate(Libc.O_CLOEXEC), "epoll_create1"), ownsHandle: true);
        _wake = new SafeFileHandle(Check(Libc.EventFd(0, Libc.O_NONBLOCK | Libc.O_CLOEXEC), "eventfd"), ownsHandle: true);
        byte* ev = stackalloc byte[16];
        EpollEvent.Write(ev, Libc.EPOLLIN, 0);
        Check(Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_ADD, _wake, ev), "epoll_ctl");
        _thread = new Thread(Run) { IsBackground = true, Name = $"kf-epoll-{index}" };
        _thread.UnsafeStart();
    }

    public bool IsLoopThread => Thread.CurrentThread == _thread;

    /// <summary>Registers <paramref name="socket"/>; the returned handle identifies it until <see cref="Release"/>.</summary>
    public GCHandle Register(SafeHandle socket, uint events, IEpollTarget target)
    {
        GCHandle handle = GCHandle.Alloc(target);
        byte* ev = stackalloc byte[16];
        EpollEvent.Write(ev, events, GCHandle.ToIntPtr(handle));
        if (Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_ADD, socket, ev) != 0)
        {
            int error = Marshal.GetLastPInvokeError();
            handle.Free();
            throw new IOException($"epoll_ctl(ADD) failed: errno {error}.");
        }

        return handle;
    }

    /// <summary>Changes what <paramref name="socket"/> is watched for. Callable from any thread.</summary>
    public void Modify(SafeHandle socket, uint events, GCHandle handle)
    {
        byte* ev = stackalloc byte[16];
        EpollEvent.Write(ev, events, GCHandle.ToIntPtr(handle));
        // Fails only when the socket is already gone: its close ends the registration anyway.
        _ = Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_MOD, socket, ev);
    }

    /// <summary>Stops watching <paramref name="socket"/>. The handle stays valid until <see cref="Release"/>.</summary>
    public void Unregister(SafeHandle socket) => _ = Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_DEL, socket, null);

    /// <summary>Frees a registration's handle: only on this loop's thread, in posted work.</summary>
    public void Release(ref GCHandle handle)
    {
        System.Diagnostics.Debug.Assert(IsLoopThread, "A registration is released only on its loop's thread.");
        if (handle.IsAllocated)
        {
            // Through the reference, so the owner's copy reads as freed too.
            handle.Free();
        }
    }

    /// <summary>Runs <paramref name="work"/> on the loop's thread, after the events of its current wait.</summary>
    public void Post(Action<object?> work, object? state)
    {
        _work.Enqueue((work, state));
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            long one = 1;
            try
            {
                _ = Libc.Write(_wake, &one, sizeof(long));
            }
            catch (ObjectDisposedException)
            {
                // The loop has stopped (the host is gone): nothing runs posted work any more, and the sockets it would
                // have closed are closed by their handles' finalizers.
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping = true;
        Post(static _ => { }, null);
        _thread.Join();

        // Work posted while the loop was stopping (a listener's close that someone awaits): the loop is gone, so
        // running it here races nothing.
        RunPostedWork();
        _wake.Dispose();
        _epoll.Dispose();
    }

    private void Run()
    {
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * EpollEvent.Size));
        try
        {
            while (!_stopping)
            {
                int count = Libc.EpollWait(_epoll, events, MaxEvents, -1);
                if (count < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    if (error == Libc.EINTR)
                    {
                        continue;
                    }

                    LogWaitFailed(_logger, error);
                    return;
                }

                for (int i = 0; i < count; i++)
                {
                    byte* ev = events + (i * EpollEvent.Size);
                    nint data = EpollEvent.Data(ev);
                    if (data == 0)
                    {
                        long drained;
                        _ = Libc.Read(_wake, &drained, sizeof(long));
                        continue;
                    }

                    Dispatch((IEpollTarget)GCHandle.FromIntPtr(data).Target!, EpollEvent.Events(ev));
                }

                RunPostedWork();
            }
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }

    private void RunPostedWork()
    {
        // Cleared before draining, with a full fence (a plain store could pass the queue reads below): a post that
        // the drain misses then sees 0 and writes the eventfd again, so it is not lost.
        Interlocked.Exchange(ref _wakePending, 0);
        while (_work.TryDequeue(out (Action<object?> Work, object? State) item))
        {
            try
            {
                item.Work(item.State);
            }
#pragma warning disable CA1031 // One connection's bug must not stop the loop that serves all the others.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogTargetFailed(_logger, ex);
            }
        }
    }

    private void Dispatch(IEpollTarget target, uint events)
    {
        try
        {
            target.OnEvents(events);
        }
#pragma warning disable CA1031 // One connection's bug must not stop the loop that serves all the others.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogTargetFailed(_logger, ex);
        }
    }

    private static int Check(int result, string call) =>
        result >= 0 ? result : throw new IOException($"{call} failed: errno {Marshal.GetLastPInvokeError()}.");

    [LoggerMessage(Level = LogLevel.Critical, Message = "epoll_wait failed with errno {Errno}; the event loop stops.")]
    private static partial void LogWaitFailed(ILogger logger, int errno);

    [LoggerMessage(Level = LogLevel.Error, Message = "An epoll transport callback failed unexpectedly.")]
    private static partial void LogTargetFailed(ILogger logger, Exception exception);
}
