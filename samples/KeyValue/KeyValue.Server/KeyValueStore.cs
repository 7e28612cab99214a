using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using KeyValue.Protocol;

namespace KeyValue.Server;

/// <summary>
/// The data: keys to versioned values, in memory, shared by every connection. Thread-safe and lock-free.
/// </summary>
/// <remarks>
/// Versions come from one store-wide counter, taken after the key's current entry has been read, so a key's
/// versions only grow, also across a DELETE and a later SET: an expected version from before the DELETE can never
/// match the new entry. Lookups take the key as UTF-16 on the caller's stack (the dictionary's alternate lookup), so
/// GET allocates nothing; a write allocates its entry and a copy of the value, and a new key its string.
/// </remarks>
public sealed class KeyValueStore
{
    private readonly ConcurrentDictionary<string, VersionedValue> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, VersionedValue>.AlternateLookup<ReadOnlySpan<char>> _byKey;
    private long _clock;

    /// <summary>Creates an empty store.</summary>
    public KeyValueStore() => _byKey = _entries.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The number of keys.</summary>
    public int Count => _entries.Count;

    /// <summary>Reads a key.</summary>
    public bool TryGet(ReadOnlySpan<char> key, [MaybeNullWhen(false)] out VersionedValue value) => _byKey.TryGetValue(key, out value);

    /// <summary>
    /// Writes a key. With <paramref name="expectedVersion"/> other than <see cref="KeyValueCodec.AnyVersion"/>, only
    /// if the key exists at that version (a compare-and-set); else the result is a version mismatch with the key's
    /// current version (0 when absent). The store keeps a copy of <paramref name="value"/>.
    /// </summary>
    public KeyValueWriteResult Set(ReadOnlySpan<char> key, ReadOnlySpan<byte> value, long expectedVersion)
    {
        byte[]? copy = null;

        // Optimistic: read, decide, then write only if nobody wrote the key in between; otherwise read again.
        while (true)
        {
            if (_byKey.TryGetValue(key, out string? storedKey, out VersionedValue? current))
            {
                if (expectedVersion != KeyValueCodec.AnyVersion && current.Version != expectedVersion)
                {
                    return new KeyValueWriteResult(KeyValueStatus.VersionMismatch, current.Version);
                }

                copy ??= value.ToArray();
                var next = new VersionedValue(copy, Interlocked.Increment(ref _clock));
                if (_entries.TryUpdate(storedKey, next, current))
                {
                    return new KeyValueWriteResult(KeyValueStatus.Ok, next.Version);
                }
            }
            else
            {
                if (expectedVersion != KeyValueCodec.AnyVersion)
                {
                    return new KeyValueWriteResult(KeyValueStatus.VersionMismatch, 0);
                }

                copy ??= value.ToArray();
                var next = new VersionedValue(copy, Interlocked.Increment(ref _clock));
                if (_byKey.TryAdd(key, next))
                {
                    return new KeyValueWriteResult(KeyValueStatus.Ok, next.Version);
                }
            }
        }
    }

    /// <summary>
    /// Removes a key. With <paramref name="expectedVersion"/> other than <see cref="KeyValueCodec.AnyVersion"/>, only
    /// if it is at that version; else the result is a version mismatch with its current version.
    /// </summary>
    public KeyValueWriteResult Delete(ReadOnlySpan<char> key, long expectedVersion)
    {
        while (true)
        {
            if (!_byKey.TryGetValue(key, out string? storedKey, out VersionedValue? current))
            {
                return new KeyValueWriteResult(KeyValueStatus.NotFound, 0);
            }

            if (expectedVersion != KeyValueCodec.AnyVersion && current.Version != expectedVersion)
            {
                return new KeyValueWriteResult(KeyValueStatus.VersionMismatch, current.Version);
            }

            // Removes the entry only if it is still the one just read: a concurrent SET makes this loop read again.
            if (_entries.TryRemove(KeyValuePair.Create(storedKey, current)))
            {
                return new KeyValueWriteResult(KeyValueStatus.Ok, current.Version);
            }
        }
    }
}
