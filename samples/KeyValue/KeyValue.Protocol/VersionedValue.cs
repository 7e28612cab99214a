namespace KeyValue.Protocol;

/// <summary>A value and the version it was written at.</summary>
/// <param name="Value">The value's bytes.</param>
/// <param name="Version">
/// The version: positive, and strictly greater than every earlier version of the same key, also across a DELETE and
/// a later SET, so an old version never matches again.
/// </param>
public readonly record struct VersionedValue(ReadOnlyMemory<byte> Value, long Version);
