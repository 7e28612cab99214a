namespace KestrelFrames.Transport;

/// <summary>What the receive does after handing bytes to the application.</summary>
internal enum InputFlush
{
    Continue,
    // The pause threshold or more is unread: stop receiving until the reader has consumed below the resume threshold.
    Paused,
    // The application stopped reading: the input is over.
    ReaderDone,
}
