namespace KestrelFrames.Connections;

/// <summary>The TLVs of a connection's PROXY v2 header, set by <see cref="ProxyProtocolMiddleware"/> when it carried any.</summary>
internal sealed class ProxyTlvFeature(IReadOnlyList<ProxyTlv> tlvs)
{
    public IReadOnlyList<ProxyTlv> Tlvs { get; } = tlvs;
}
