using System.Runtime.InteropServices;

namespace KestrelFrames.Transport;

/// <summary>
/// struct epoll_event: 32-bit events, then 64-bit data. The kernel packs it on x64 (12 bytes) and aligns it on
/// arm64 (16 bytes), so it is read and written by offset instead of declared once as a struct.
/// </summary>
internal static unsafe class EpollEvent
{
    private static readonly bool s_packed = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Bytes per event in an array of them.</summary>
    public static int Size { get; } = s_packed ? 12 : 16;

    private static int DataOffset => s_packed ? 4 : 8;

    public static void Write(byte* at, uint events, nint data)
    {
        *(uint*)at = events;
        *(long*)(at + DataOffset) = data;
    }

    public static uint Events(byte* at) => *(uint*)at;

    public static nint Data(byte* at) => (nint)(*(long*)(at + DataOffset));
}
