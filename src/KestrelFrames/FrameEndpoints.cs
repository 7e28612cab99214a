using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KestrelFrames;

/// <summary>
/// The Kestrel endpoints that speak the frame protocol. Kestrel writes the bound address (the real port, when
/// configured with port 0) back into each <see cref="ListenOptions"/> once it listens.
/// </summary>
public sealed class FrameEndpoints
{
    private readonly List<ListenOptions> _endpoints = [];

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
        }
    }
}
