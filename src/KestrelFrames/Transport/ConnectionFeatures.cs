using System.Collections;
using Microsoft.AspNetCore.Http.Features;

namespace KestrelFrames.Transport;

/// <summary>
/// The feature collection of an <see cref="EpollConnection"/>: the transport's own features are the connection
/// itself, asked by type without a dictionary; what the layers above add (Kestrel's lifetime notification, TLS) goes
/// in a short list. Kestrel's own transports use a generated collection for the same reason: a dictionary per idle
/// connection is memory the connection does not need.
/// </summary>
internal sealed class ConnectionFeatures(object owner, Type[] ownFeatures) : IFeatureCollection
{
    private KeyValuePair<Type, object>[] _added = [];
    private int _count;

    public bool IsReadOnly => false;

    public int Revision { get; private set; }

    public object? this[Type key]
    {
        get
        {
            for (int i = 0; i < _count; i++)
            {
                if (_added[i].Key == key)
                {
                    return _added[i].Value;
                }
            }

            return Array.IndexOf(ownFeatures, key) >= 0 ? owner : null;
        }
        set
        {
            Revision++;
            int index = 0;
            while (index < _count && _added[index].Key != key)
            {
                index++;
            }

            if (value is null)
            {
                if (index < _count)
                {
                    _added[index] = _added[--_count];
                    _added[_count] = default;
                }

                return;
            }

            if (index == _count)
            {
                if (_count == _added.Length)
                {
                    Array.Resize(ref _added, Math.Max(4, _count * 2));
                }

                _count++;
            }

            _added[index] = new(key, value);
        }
    }

    public TFeature? Get<TFeature>() => (TFeature?)this[typeof(TFeature)];

    public void Set<TFeature>(TFeature? instance) => this[typeof(TFeature)] = instance;

    public IEnumerator<KeyValuePair<Type, object>> GetEnumerator()
    {
        for (int i = 0; i < _count; i++)
        {
            yield return _added[i];
        }

        foreach (Type type in ownFeatures)
        {
            if (Array.FindIndex(_added, 0, _count, pair => pair.Key == type) < 0)
            {
                yield return new(type, owner);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
