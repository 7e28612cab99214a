namespace KestrelFrames.Connections;

/// <summary>Per TLS connection: set once Kestrel's TLS middleware has handed the connection on, its handshake done.</summary>
internal sealed class TlsHandshakeOutcome
{
    public bool Completed { get; set; }
}
