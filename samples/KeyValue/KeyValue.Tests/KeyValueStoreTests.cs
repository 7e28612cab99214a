using KeyValue.Protocol;
using KeyValue.Server;

namespace KeyValue.Tests;

public sealed class KeyValueStoreTests
{
    private readonly KeyValueStore _store = new();

    [Fact]
    public void A_key_reads_back_what_was_written_at_the_version_the_write_returned()
    {
        Assert.False(_store.TryGet("k", out _));

        KeyValueWriteResult written = _store.Set("k", "v1"u8, KeyValueCodec.AnyVersion);

        Assert.Equal(KeyValueStatus.Ok, written.Status);
        Assert.True(written.Version > 0);
        Assert.True(_store.TryGet("k", out VersionedValue? stored));
        Assert.Equal("v1"u8, stored.Value.Span);
        Assert.Equal(written.Version, stored.Version);
    }

    [Fact]
    public void The_store_keeps_its_own_copy_of_a_value()
    {
        byte[] value = "original"u8.ToArray();
        _store.Set("k", value, KeyValueCodec.AnyVersion);
        value.AsSpan().Fill((byte)'x');

        Assert.True(_store.TryGet("k", out VersionedValue? stored));
        Assert.Equal("original"u8, stored.Value.Span);
    }

    [Fact]
    public void A_keys_versions_only_grow_also_across_a_delete()
    {
        long first = _store.Set("k", "1"u8, KeyValueCodec.AnyVersion).Version;
        long second = _store.Set("k", "2"u8, KeyValueCodec.AnyVersion).Version;
        KeyValueWriteResult deleted = _store.Delete("k", KeyValueCodec.AnyVersion);
        long recreated = _store.Set("k", "3"u8, KeyValueCodec.AnyVersion).Version;

        Assert.True(first < second);
        Assert.Equal(new KeyValueWriteResult(KeyValueStatus.Ok, second), deleted);
        Assert.True(second < recreated);

        // So a compare-and-set against the version from before the delete cannot succeed on the new key.
        Assert.Equal(new KeyValueWriteResult(KeyValueStatus.VersionMismatch, recreated), _store.Set("k", "stale"u8, second));
    }

    [Fact]
    public void A_compare_and_set_writes_only_at_the_expected_version()
    {
        long version = _store.Set("k", "v1"u8, KeyValueCodec.AnyVersion).Version;

        KeyValueWriteResult won = _store.Set("k", "v2"u8, version);
        KeyValueWriteResult lost = _store.Set("k", "v3"u8, version);

        Assert.Equal(KeyValueStatus.Ok, won.Status);
        Assert.Equal(new KeyValueWriteResult(KeyValueStatus.VersionMismatch, won.Version), lost);
        Assert.True(_store.TryGet("k", out VersionedValue? stored));
        Assert.Equal("v2"u8, stored.Value.Span);
    }

    [Fact]
    public void A_compare_and_set_on_a_missing_key_is_a_mismatch_at_version_zero()
    {
        Assert.Equal(new KeyValueWriteResult(KeyValueStatus.VersionMismatch, 0), _store.Set("k", "v"u8, expectedVersion: 5));
        Assert.False(_store.TryGet("k", out _));
    }

    [Fact]
    public void A_delete_reports_a_missing_key_and_honours_an_expected_version()
    {
        Assert.Equal(new KeyValueWriteResult(KeyValueStatus.NotFound, 0), _store.Delete("k", KeyValueCodec.AnyVersion));

        long version = _store.Set("k", "v"u8, KeyValueCodec.AnyVersion).Version;
        Assert.Equal(new KeyValueWriteResult(KeyValueStatus.VersionMismatch, version), _store.Delete("k", version + 1));
        Assert.Equal(new KeyValueWriteResult(KeyValueStatus.Ok, version), _store.Delete("k", version));
        Assert.False(_store.TryGet("k", out _));
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task Of_concurrent_compare_and_sets_at_one_version_exactly_one_wins()
    {
        const int Writers = 8;
        long version = _store.Set("k", "start"u8, KeyValueCodec.AnyVersion).Version;
        using var start = new Barrier(Writers);

        // Own threads (LongRunning), since each blocks at the barrier until all are there, then all write at once.
        KeyValueWriteResult[] results = await Task.WhenAll(Enumerable.Range(0, Writers).Select(i => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                return _store.Set("k", [(byte)i], version);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)));

        KeyValueWriteResult winner = Assert.Single(results, r => r.Succeeded);
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal(new KeyValueWriteResult(KeyValueStatus.VersionMismatch, winner.Version), r));
    }

    [Fact]
    public async Task Concurrent_unconditional_writes_leave_the_last_version_written()
    {
        const int Writers = 8;
        const int WritesEach = 500;

        long[][] versions = await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(() =>
            Enumerable.Range(0, WritesEach).Select(i => _store.Set("k", [(byte)i], KeyValueCodec.AnyVersion).Version).ToArray())));

        // Every write got its own version, and the entry that stayed is the one with the highest: none went backwards.
        long[] all = [.. versions.SelectMany(v => v)];
        Assert.Equal(all.Length, all.Distinct().Count());
        Assert.True(_store.TryGet("k", out VersionedValue? stored));
        Assert.Equal(all.Max(), stored.Version);
        Assert.All(versions, v => Assert.Equal(v.Order(), v));
    }
}
