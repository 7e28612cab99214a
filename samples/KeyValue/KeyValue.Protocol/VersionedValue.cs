namespace KeyValue.Protocol;

/// <summary>A value and the version it was written at. Immutable: the store replaces it whole on every write.</summary>
/// <param name="Value">The value's bytes.</param>
/// <param name="Version">
/// The version: positive, and strictly greater than every earlier version of the same key, also across a DELETE and
/// a later SET, so an old version never matches again.
/// </param>
public sealed record VersionedValue(ReadOnlyMemory<byte> Value, long Version);
