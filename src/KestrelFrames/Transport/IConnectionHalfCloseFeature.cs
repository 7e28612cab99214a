namespace KestrelFrames.Transport;

/// <summary>
/// A transport that can end its sending side on its own: the last bytes, then a FIN, while the receiving side
/// stays open (Kestrel's socket transport cannot, see Connections/GracefulClose).
/// </summary>
internal interface IConnectionHalfCloseFeature
{
    /// <summary>
    /// Completes the output and sends a FIN once every byte written is on the wire. True once it went out (or the
    /// connection broke meanwhile); false when bytes were still unsent when <paramref name="deadline"/> passed.
    /// </summary>
    Task<bool> CloseOutputAsync(CancellationToken deadline);
}
