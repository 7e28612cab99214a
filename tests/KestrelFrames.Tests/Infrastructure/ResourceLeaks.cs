using KestrelFrames.Connections;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// What a server's connections took and had not given back: answer slots, request and response buffers (counted by
/// the test build's <see cref="ResourceLedger"/>), budget bytes and transport blocks. Taken from the live services,
/// so it can be read after the host has stopped.
/// </summary>
internal sealed class ResourceLeaks(IServiceProvider services)
{
    private readonly ResourceLedger _ledger = services.GetRequiredService<ResourceLedger>();
    private readonly BufferBudget _budget = services.GetRequiredService<BufferBudget>();
    private readonly BlockMemoryPoolFactory _transport = services.GetRequiredService<BlockMemoryPoolFactory>();
    private readonly ConnectionManager _connections = services.GetRequiredService<ConnectionManager>();

    /// <summary>One line per resource still out; empty when everything is back.</summary>
    public IReadOnlyList<string> Outstanding()
    {
        var outstanding = Enum.GetValues<LedgerEntry>()
            .Where(entry => _ledger.Outstanding(entry) != 0)
            .Select(entry => $"{entry}: {_ledger.Outstanding(entry)}")
            .ToList();
        if (_budget.Used != 0)
        {
            outstanding.Add($"budget bytes: {_budget.Used}");
        }

        if (_transport.RentedBytes != 0)
        {
            outstanding.Add($"transport block bytes: {_transport.RentedBytes}");
        }

        return outstanding;
    }

    /// <summary>Once no connection is running (one whose handler the host gave up on may outlive it), nothing is out.</summary>
    public async Task AssertNoneAsync()
    {
        await _connections.WhenEmptyAsync().WaitAsync(TimeSpan.FromSeconds(30));
        IReadOnlyList<string> outstanding = Outstanding();
        Assert.True(outstanding.Count == 0, "Not given back after every connection closed: " + string.Join(", ", outstanding));
    }
}
