using System.Net;

namespace KestrelFrames.Protocol;

/// <summary>
/// A parsed PROXY protocol header (v1 or v2). <see cref="Source"/> is null for v2's LOCAL command and v1's UNKNOWN:
/// the connection is the proxy's own (a health check), and its real address stands. <see cref="Tlvs"/> is null
/// when the header carried none (always for v1).
/// </summary>
internal readonly record struct ProxyHeader(int Version, IPEndPoint? Source, IPEndPoint? Destination, IReadOnlyList<ProxyTlv>? Tlvs = null);
