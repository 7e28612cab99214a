namespace KeyValue.Protocol;

/// <summary>The outcome of a SET or a DELETE.</summary>
/// <param name="Status">
/// <see cref="KeyValueStatus.Ok"/>, <see cref="KeyValueStatus.VersionMismatch"/> (a compare-and-set lost) or, for a
/// DELETE, <see cref="KeyValueStatus.NotFound"/>.
/// </param>
/// <param name="Version">
/// On success, the version written (SET) or the version the key had when it was removed (DELETE); on a version
/// mismatch, the key's current version (0 when it does not exist); 0 when not found.
/// </param>
public readonly record struct KeyValueWriteResult(KeyValueStatus Status, long Version)
{
    /// <summary>True when the write happened.</summary>
    public bool Succeeded => Status == KeyValueStatus.Ok;
}
