using System.Net;
using KestrelFrames.Connections;
using KestrelFrames.Processing;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Connections;

/// <summary>The partition map behind Frames:RateLimit, on a fake clock: its sweep runs when the test moves time.</summary>
public sealed class ClientRateLimiterTests
{
    private static readonly IPAddress s_client = IPAddress.Parse("203.0.113.7");
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Partitions_of_a_scan_from_many_addresses_are_dropped_once_idle_so_memory_does_not_grow_with_addresses()
    {
        const int Addresses = 200_000;
        using ClientRateLimiter limiter = Create(requestsPerSecond: 10, burst: 10, connectionsPerSecond: 5);

        // A scan: every address connects once, sends a request and goes. Each takes a token from both buckets.
        for (int i = 0; i < Addresses; i++)
        {
            ClientRatePartition partition = limiter.Hold(Address(i));
            Assert.True(partition.TryAcquireConnection(limiter.Limits, _time.GetTimestamp()));
            Assert.True(partition.TryAcquireRequest(_time.GetTimestamp()));
            partition.Release();
        }

        Assert.Equal(Addresses, limiter.PartitionCount);

        // Not yet refilled (a connection token takes 200 ms to come back): a sweep keeps them all.
        _time.Advance(TimeSpan.FromMilliseconds(100));
        limiter.Sweep();
        Assert.Equal(Addresses, limiter.PartitionCount);

        // The sweep's own timer, on the fake clock: once both buckets are full again, every partition is dropped.
        _time.Advance(ClientRateLimiter.SweepInterval);
        Assert.Equal(0, limiter.PartitionCount);

        // And the map is usable again: an address seen before starts from a full bucket.
        ClientRatePartition again = limiter.Hold(Address(7));
        Assert.Equal(10, Enumerable.Range(0, 20).Count(_ => again.TryAcquireRequest(_time.GetTimestamp())));
        again.Release();
        Assert.Equal(1, limiter.PartitionCount);
    }

    [Fact]
    public void A_partition_held_by_a_connection_is_never_dropped_however_long_it_is_idle()
    {
        using ClientRateLimiter limiter = Create(requestsPerSecond: 1, burst: 1);
        ClientRatePartition held = limiter.Hold(s_client);

        _time.Advance(TimeSpan.FromMinutes(10)); // six hundred sweeps

        Assert.Equal(1, limiter.PartitionCount);
        ClientRatePartition second = limiter.Hold(s_client);
        Assert.Same(held, second);

        // The two connections share one bucket: a token taken by one is gone for the other.
        Assert.True(held.TryAcquireRequest(_time.GetTimestamp()));
        Assert.False(second.TryAcquireRequest(_time.GetTimestamp()));

        held.Release();
        second.Release();
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(0, limiter.PartitionCount);
    }

    [Fact]
    public void A_partition_whose_bucket_is_still_short_survives_the_sweep_so_reconnecting_does_not_refill_it()
    {
        using ClientRateLimiter limiter = Create(requestsPerSecond: 1, burst: 3);
        ClientRatePartition first = limiter.Hold(s_client);
        Assert.Equal(3, Enumerable.Range(0, 5).Count(_ => first.TryAcquireRequest(_time.GetTimestamp())));
        first.Release();

        // One second later one token is back, not three: the partition is kept.
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, limiter.PartitionCount);

        ClientRatePartition reconnected = limiter.Hold(s_client);
        Assert.Equal(1, Enumerable.Range(0, 5).Count(_ => reconnected.TryAcquireRequest(_time.GetTimestamp())));
        reconnected.Release();

        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(0, limiter.PartitionCount);
    }

    [Fact]
    public void An_ipv4_mapped_ipv6_address_is_the_same_client_as_its_ipv4_address()
    {
        using ClientRateLimiter limiter = Create(requestsPerSecond: 1, burst: 1);
        ClientRatePartition v4 = limiter.Hold(s_client);
        ClientRatePartition mapped = limiter.Hold(s_client.MapToIPv6());

        Assert.Same(v4, mapped);
        Assert.Equal(1, limiter.PartitionCount);
        v4.Release();
        mapped.Release();
    }

    [Fact]
    public void Burst_zero_means_one_seconds_worth_of_requests()
    {
        using ClientRateLimiter limiter = Create(requestsPerSecond: 5, burst: 0);
        ClientRatePartition partition = limiter.Hold(s_client);

        Assert.Equal(5, Enumerable.Range(0, 20).Count(_ => partition.TryAcquireRequest(_time.GetTimestamp())));
        partition.Release();
    }

    [Fact]
    public void With_both_limits_off_no_sweep_timer_is_created()
    {
        var time = new KestrelFrames.Tests.Client.ObservedTimeProvider();
        using var off = new ClientRateLimiter(new LiveFrameOptions(new FrameServerOptions()), time);
        Assert.False(off.IsEnabled);
        Assert.Equal(0, time.TimersCreated);

        using var on = new ClientRateLimiter(new LiveFrameOptions(new FrameServerOptions { RateLimit = { ConnectionsPerSecond = 1 } }), time);
        Assert.True(on.IsEnabled);
        Assert.False(on.Limits.LimitsRequests);
        Assert.Equal(1, time.TimersCreated);
    }

    [Fact]
    public async Task Connections_coming_and_going_while_the_map_is_swept_never_get_a_second_bucket()
    {
        // The clock stands still, so a bucket emptied once never refills: if a sweep ever dropped or replaced this
        // address's partition with a fresh one while it mattered, more than the burst would get through.
        const int Burst = 50;
        using ClientRateLimiter limiter = Create(requestsPerSecond: 1, burst: Burst);
        int admitted = 0;
        using var done = new CancellationTokenSource();
        Task sweeping = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                limiter.Sweep();
            }
        });

        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                ClientRatePartition partition = limiter.Hold(s_client);
                if (i % 500 == 0 && partition.TryAcquireRequest(_time.GetTimestamp()))
                {
                    Interlocked.Increment(ref admitted);
                }

                partition.Release();
            }
        });
        done.Cancel();
        await sweeping;

        Assert.Equal(Burst, admitted);
        Assert.Equal(1, limiter.PartitionCount);
    }

    private ClientRateLimiter Create(int requestsPerSecond, int burst, int connectionsPerSecond = 0) =>
        new(new LiveFrameOptions(new FrameServerOptions
        {
            RateLimit = new RateLimitOptions { RequestsPerSecond = requestsPerSecond, Burst = burst, ConnectionsPerSecond = connectionsPerSecond },
        }), _time);

    private static IPAddress Address(int i) => new(new byte[] { 10, (byte)(i >> 16), (byte)(i >> 8), (byte)i });
}
