using System.Runtime.InteropServices;

namespace KestrelFrames.Transport;

/// <summary>
/// The few libc calls the epoll transport needs, bound with source-generated P/Invoke: no native library of our own.
/// Socket descriptors are passed as <see cref="SafeHandle"/>s, so a call never runs on a descriptor that was closed
/// (and perhaps reused) meanwhile: the marshaller holds a reference for the length of the call. Linux 64-bit only
/// (x64, arm64), where the constants below are the same; the handle travels as a pointer-sized value into an
/// <c>int</c> parameter, which both ABIs pass in a register and the callee reads as its low half.
/// </summary>
internal static unsafe partial class Libc
{
    public const int EAGAIN = 11;
    public const int EINTR = 4;

    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 1u << 31;

    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;

    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int SHUT_RD = 0;
    public const int SHUT_WR = 1;

    private const string LibraryName = "libc";

    [LibraryImport(LibraryName, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    [LibraryImport(LibraryName, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(SafeHandle epfd, int op, SafeHandle fd, byte* ev);

    [LibraryImport(LibraryName, EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(SafeHandle epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport(LibraryName, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport(LibraryName, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(SafeHandle fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(SafeHandle fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept(SafeHandle fd, byte* address, uint* addressLength, int flags);

    [LibraryImport(LibraryName, EntryPoint = "recv", SetLastError = true)]
    public static partial nint Receive(SafeHandle fd, byte* buffer, nuint length, int flags);

    [LibraryImport(LibraryName, EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(SafeHandle fd, byte* buffer, nuint length, int flags);

    [LibraryImport(LibraryName, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMessage(SafeHandle fd, MessageHeader* message, int flags);

    [LibraryImport(LibraryName, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(SafeHandle fd, int how);

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (64-bit layout; sequential layout inserts the same padding as C).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }
}
