using KestrelFrames.Primitives;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Primitives;

public sealed class LogThrottleTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger _logger = new();

    [Fact]
    public void Ten_warnings_a_second_get_through_and_the_rest_are_held_back()
    {
        using var throttle = new LogThrottle("client fault", LogLevel.Warning, _logger, _time);

        int allowed = Enumerable.Range(0, 300).Count(_ => throttle.TryEnter());

        Assert.Equal(LogThrottle.PerInterval, allowed);
    }

    [Fact]
    public void A_burst_that_ends_inside_a_second_is_reported_within_the_second_without_another_warning()
    {
        using var throttle = new LogThrottle("client fault", LogLevel.Warning, _logger, _time);
        for (int i = 0; i < 300; i++)
        {
            throttle.TryEnter();
        }

        Assert.Empty(_logger.Collector.GetSnapshot());
        _time.Advance(TimeSpan.FromSeconds(1));

        FakeLogRecord report = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, report.Level);
        Assert.Equal("290 more client fault messages in the last second were suppressed.", report.Message);
    }

    [Fact]
    public void A_second_flood_after_the_first_was_reported_is_reported_too()
    {
        using var throttle = new LogThrottle("client fault", LogLevel.Warning, _logger, _time);
        Flood(throttle, 300);
        _time.Advance(TimeSpan.FromSeconds(1));

        int allowed = Flood(throttle, 200);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(LogThrottle.PerInterval, allowed);
        Assert.Equal(
            ["290 more client fault messages in the last second were suppressed.", "190 more client fault messages in the last second were suppressed."],
            _logger.Collector.GetSnapshot().Select(r => r.Message));
    }

    [Fact]
    public void A_flood_of_one_kind_does_not_use_up_the_budget_of_another()
    {
        using var faults = new LogThrottle("client fault", LogLevel.Warning, _logger, _time);
        using var limits = new LogThrottle("connection limit", LogLevel.Warning, _logger, _time);
        Flood(faults, 1000);

        Assert.True(limits.TryEnter());
    }

    [Fact]
    public void Nothing_held_back_means_no_report()
    {
        using var throttle = new LogThrottle("client fault", LogLevel.Warning, _logger, _time);
        Flood(throttle, LogThrottle.PerInterval);

        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Empty(_logger.Collector.GetSnapshot());
    }

    [Fact]
    public void Disposing_reports_what_is_still_held_back_at_the_level_of_its_kind()
    {
        var throttle = new LogThrottle("handler error", LogLevel.Error, _logger, _time);
        Flood(throttle, 12);

        throttle.Dispose();

        FakeLogRecord report = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Error, report.Level);
        Assert.Equal("2 more handler error messages in the last second were suppressed.", report.Message);
    }

    private static int Flood(LogThrottle throttle, int count) => Enumerable.Range(0, count).Count(_ => throttle.TryEnter());
}
