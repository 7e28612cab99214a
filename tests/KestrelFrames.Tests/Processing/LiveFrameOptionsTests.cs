using System.Reflection;
using KestrelFrames.Connections;
using KestrelFrames.Processing;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace KestrelFrames.Tests.Processing;

/// <summary>
/// The owner of the running options, on the server's real services and a configuration source the test reloads:
/// what a reload applies, what it refuses, and the one log line each outcome writes.
/// </summary>
public sealed class LiveFrameOptionsTests : IDisposable
{
    private readonly ReloadableSettings _settings = new();
    private readonly ServiceProvider _services;

    public LiveFrameOptionsTests()
    {
        var collection = new ServiceCollection();
        collection.AddFakeLogging();
        collection.AddMetrics();
        collection.AddFrameServer(new ConfigurationBuilder().Add(_settings).Build());
        _services = collection.BuildServiceProvider();

        // As the host does at start: the options validated before any edit.
        Live = _services.GetRequiredService<LiveFrameOptions>();
    }

    private LiveFrameOptions Live { get; }

    [Fact]
    public void A_valid_edit_applies_and_logs_one_line_naming_each_changed_key_with_its_old_and_new_value()
    {
        FrameServerOptions before = Live.Current;

        _settings.Change(("Frames:MaxConnections", "5"), ("Frames:RateLimit:RequestsPerSecond", "100"), ("Frames:IdleTimeout", "00:00:05"));

        Assert.Equal(5, Live.Current.MaxConnections);
        Assert.Equal(100, Live.Current.RateLimit.RequestsPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(5), Live.Current.IdleTimeout);
        Assert.Equal(10_000, before.MaxConnections); // A published snapshot never changes.
        FakeLogRecord line = Assert.Single(Lines());
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Equal(
            "Frames configuration changed; new work uses Frames:MaxConnections 10000 -> 5, Frames:IdleTimeout 00:01:00 -> 00:00:05, Frames:RateLimit:RequestsPerSecond 0 -> 100.",
            line.Message);
    }

    [Fact]
    public void A_reload_that_changes_no_frames_key_logs_nothing()
    {
        // A file watcher reports one save twice, and an edit of another section (Logging) reloads too.
        _settings.Change(("Frames:MaxConnections", "5"));
        _settings.Change(("Frames:MaxConnections", "5"));
        _settings.Change(("Logging:LogLevel:Default", "Debug"));

        Assert.Single(Lines());
    }

    [Theory]
    [InlineData("Frames:MaxConnections", "0", "Frames:MaxConnections must be between 1 and 10000000 (was 0).")]
    [InlineData("Frames:MaxConnections", "abc", "'abc' at 'Frames:MaxConnections'")]
    [InlineData("Frames:OverloadMode", "Drop", "'Drop' at 'Frames:OverloadMode'")]
    [InlineData("Frames:IdleTimeout", "30", "Frames:IdleTimeout is a bare number (30)")]
    [InlineData("Frames:MaxConection", "5", "Frames:MaxConection is not a setting; did you mean Frames:MaxConnections?")]
    [InlineData("Frames:MaxBufferedBytes", "1000", "Frames:MaxBufferedBytes must be between 2048")]
    [InlineData("Frames:RateLimit:Burst", "-1", "Frames:RateLimit:Burst must be between 0")]
    [InlineData("Frames:DrainDelay", "00:05:00", "Frames:DrainDelay (00:05:00) must be shorter than HostOptions:ShutdownTimeout (00:00:30)")]
    public void An_invalid_edit_is_refused_whole_with_one_warning_naming_the_key_and_the_running_values_stay(string key, string value, string failure)
    {
        // A valid change in the same edit is refused with it: an edit applies whole or not at all.
        _settings.Change(("Frames:MaxConnections", "7"));
        _settings.Change(("Frames:MaxFrameSize", "2048"), (key, value));
        _settings.Change(("Frames:MaxFrameSize", "2048"), (key, value));

        Assert.Equal(1024 * 1024, Live.Current.MaxFrameSize);
        Assert.Equal(7, Live.Current.MaxConnections);
        FakeLogRecord warning = Assert.Single(Lines(), r => r.Level == LogLevel.Warning);
        Assert.StartsWith("Frames configuration change refused; the running values stay: ", warning.Message, StringComparison.Ordinal);
        Assert.Contains(failure, warning.Message, StringComparison.Ordinal);

        // Fixed, the edit applies.
        _settings.Change((key, null));
        Assert.Equal(2048, Live.Current.MaxFrameSize);
        Assert.Contains("Frames:MaxFrameSize 1048576 -> 2048", Lines()[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_restart_only_key_keeps_its_running_value_with_one_warning_while_the_live_keys_of_the_edit_apply()
    {
        _settings.Change(("Frames:Workers", "8"), ("Frames:TransportBlockSize", "65536"), ("Frames:MaxConnections", "5"));

        Assert.Equal(64, Live.Current.Workers);
        Assert.Equal(32 * 1024, Live.Current.TransportBlockSize);
        Assert.Equal(5, Live.Current.MaxConnections);
        FakeLogRecord warning = Assert.Single(Lines(), r => r.Level == LogLevel.Warning);
        Assert.Equal(
            "Frames configuration change needs a restart; the running values stay until then: Frames:Workers 64 -> 8, Frames:TransportBlockSize 32768 -> 65536.",
            warning.Message);
        FakeLogRecord applied = Assert.Single(Lines(), r => r.Level == LogLevel.Information);
        Assert.Equal("Frames configuration changed; new work uses Frames:MaxConnections 10000 -> 5.", applied.Message);

        // The pending restart is not said again with every later edit.
        _settings.Change(("Frames:MaxConnections", "6"));
        Assert.Single(Lines(), r => r.Level == LogLevel.Warning);
        Assert.Equal(64, Live.Current.Workers);
    }

    [Fact]
    public void Components_that_derive_state_from_the_options_follow_a_reload()
    {
        BufferBudget budget = _services.GetRequiredService<BufferBudget>();
        ClientRateLimiter rates = _services.GetRequiredService<ClientRateLimiter>();
        Assert.Equal(256L * 1024 * 1024, budget.Limit);
        Assert.False(rates.IsEnabled);

        _settings.Change(("Frames:MaxBufferedBytes", "4194304"), ("Frames:RateLimit:ConnectionsPerSecond", "3"));

        Assert.Equal(4L * 1024 * 1024, budget.Limit);
        Assert.True(rates.Limits.LimitsConnections);
        Assert.False(rates.Limits.LimitsRequests);
    }

    [Fact]
    public async Task Raising_the_buffer_budget_wakes_a_connection_waiting_for_room()
    {
        _settings.Change(("Frames:MaxFrameSize", "100"), ("Frames:MaxBufferedBytes", "100"));
        BufferBudget budget = _services.GetRequiredService<BufferBudget>();
        Assert.True(budget.TryReserve(100));
        Task waiting = budget.ReserveAsync(100, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        _settings.Change(("Frames:MaxBufferedBytes", "200"));

        await waiting;
        Assert.Equal(200, budget.Used);
    }

    [Fact]
    public async Task A_frame_larger_than_a_lowered_budget_is_let_in_alone_instead_of_waiting_forever()
    {
        // Its header was read under the old MaxFrameSize; a reload then lowered both limits below its size.
        BufferBudget budget = _services.GetRequiredService<BufferBudget>();
        _settings.Change(("Frames:MaxFrameSize", "100"), ("Frames:MaxBufferedBytes", "100"));
        Assert.True(budget.TryReserve(10));
        Task waiting = budget.ReserveAsync(500, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        budget.Release(10);

        await waiting;
        Assert.Equal(500, budget.Used);
        Assert.False(budget.TryReserve(1));
    }

    [Fact]
    public void Every_key_of_the_frames_section_is_listed_as_live_or_restart_only()
    {
        string[] listed = [.. FrameOptionKey.All.Select(k => k.Name).Order(StringComparer.Ordinal)];

        Assert.Equal(Keys(typeof(FrameServerOptions), "").Order(StringComparer.Ordinal), listed);
        Assert.Equal(
            ["Lanes", "ProxyProtocol:Mode", "ProxyProtocol:TrustedProxies", "QueueCapacity", "TlsHandshakeTimeout", "Transport", "TransportBlockSize", "TransportLoops", "Workers"],
            FrameOptionKey.All.Where(k => !k.IsLive).Select(k => k.Name).Order(StringComparer.Ordinal));
    }

    public void Dispose() => _services.Dispose();

    private static IEnumerable<string> Keys(Type type, string prefix)
    {
        // Settable keys, and the get-only dictionaries configuration fills (Lanes).
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite || (p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(IDictionary<,>))))
        {
            bool nested = property.PropertyType.IsClass && property.PropertyType.Namespace == typeof(FrameServerOptions).Namespace;
            IEnumerable<string> keys = nested ? Keys(property.PropertyType, prefix + property.Name + ":") : [prefix + property.Name];
            foreach (string key in keys)
            {
                yield return key;
            }
        }
    }

    private FakeLogRecord[] Lines() =>
        [.. _services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == typeof(LiveFrameOptions).FullName)];
}
