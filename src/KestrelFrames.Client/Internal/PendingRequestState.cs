namespace KestrelFrames.Client.Internal;

/// <summary>
/// Where a <see cref="PendingRequest"/> is between its caller and the wire. The write loop and a cancelling caller race
/// on it with compare-and-swap, so that a caller never gets control back while its payload is still being copied.
/// </summary>
internal static class PendingRequestState
{
    /// <summary>Waiting to be written (first time, or again after a reconnect).</summary>
    public const int Queued = 0;

    /// <summary>The write loop is copying the payload into the pipe.</summary>
    public const int Writing = 1;

    /// <summary>The caller cancelled during the copy: the write loop completes it once the copy is done.</summary>
    public const int WritingCancelled = 2;

    /// <summary>On the wire and in the connection's answer queue, waiting for its answer.</summary>
    public const int Written = 3;

    /// <summary>The caller cancelled: never written again; if it was written, its answer is read and dropped.</summary>
    public const int Abandoned = 4;
}
