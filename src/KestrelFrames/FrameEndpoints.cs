using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace KestrelFrames;

/// <summary>
/// The Kestrel endpoints that speak the frame protocol. Kestrel writes the bound address (the real port, when
/// configured with port 0) back into each <see cref="ListenOptions"/> once it listens.
/// </summary>
public sealed class FrameEndpoints
{
    private readonly List<ListenOptions> _endpoints = [];
    private readonly Dictionary<ListenOptions, HttpsConnectionAdapterOptions> _tls = [];

    /// <summary>The addresses the Frames endpoints are bound to; valid once the server has started.</summary>
    public IReadOnlyList<EndPoint> EndPoints
    {
        get
        {
            lock (_endpoints)
            {
                return [.. _endpoints.Select(e => e.EndPoint)];
            }
        }
    }

    /// <summary>The TLS settings of the Frames endpoints that have TLS, for the start-up log.</summary>
    internal IReadOnlyList<HttpsConnectionAdapterOptions> Tls
    {
        get
        {
            lock (_endpoints)
            {
                return [.. _tls.Values];
            }
        }
    }

    internal void AddTls(ListenOptions listenOptions, HttpsConnectionAdapterOptions options)
    {
        lock (_endpoints)
        {
            _tls[listenOptions] = options;
        }
    }

    internal void Add(ListenOptions listenOptions)
    {
        lock (_endpoints)
        {
            _endpoints.Add(listenOptions);
        }
    }

    /// <summary>An endpoint Kestrel unbound to bind it again from reloaded configuration.</summary>
    internal void Remove(ListenOptions listenOptions)
    {
        lock (_endpoints)
        {
            _endpoints.Remove(listenOptions);
            _tls.Remove(listenOptions);
        }
    }
}
