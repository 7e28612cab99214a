namespace KestrelFrames;

/// <summary>
/// One type-length-value field of a PROXY protocol v2 header, as the balancer sent it. Types are in the spec
/// (<c>0x01</c> ALPN, <c>0x02</c> authority, <c>0x05</c> unique id, <c>0x20</c> SSL) and the <c>0xE0</c>-<c>0xEF</c>
/// range is the balancers' own (AWS <c>0xEA</c>: the VPC endpoint id; Azure <c>0xEE</c>: the link id).
/// </summary>
/// <param name="Type">The field's type byte.</param>
/// <param name="Value">The field's value, without its type and length.</param>
public readonly record struct ProxyTlv(byte Type, ReadOnlyMemory<byte> Value);
