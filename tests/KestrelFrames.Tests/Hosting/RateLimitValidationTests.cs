using KestrelFrames.Hosting;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Tests.Hosting;

/// <summary>Frames:RateLimit:* at start (the whole process's handling of a bad key is in ConfigurationErrorTests).</summary>
public sealed class RateLimitValidationTests
{
    [Theory]
    [InlineData("RequestsPerSecond", -1)]
    [InlineData("Burst", -1)]
    [InlineData("ConnectionsPerSecond", -5)]
    [InlineData("RequestsPerSecond", 1_000_001)]
    public void A_negative_or_huge_value_fails_naming_its_key(string key, int value)
    {
        var rate = new RateLimitOptions();
        typeof(RateLimitOptions).GetProperty(key)!.SetValue(rate, value);

        ValidateOptionsResult result = Validate(rate);

        Assert.True(result.Failed);
        string failure = Assert.Single(result.Failures!);
        Assert.StartsWith($"Frames:RateLimit:{key} must be between 0 and 1000000 (was {value})", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 0, 0)] // the default: off
    [InlineData(100, 0, 0)] // Burst 0: one second's worth
    [InlineData(100, 500, 20)]
    [InlineData(0, 50, 0)] // Burst without a rate does nothing, so one key turns the limit off
    public void Zero_or_positive_values_are_accepted(int requestsPerSecond, int burst, int connectionsPerSecond)
    {
        var rate = new RateLimitOptions { RequestsPerSecond = requestsPerSecond, Burst = burst, ConnectionsPerSecond = connectionsPerSecond };

        Assert.True(Validate(rate).Succeeded);
    }

    [Fact]
    public void The_limits_are_off_by_default()
    {
        var options = new FrameServerOptions();

        Assert.Equal(0, options.RateLimit.RequestsPerSecond);
        Assert.Equal(0, options.RateLimit.Burst);
        Assert.Equal(0, options.RateLimit.ConnectionsPerSecond);
    }

    private static ValidateOptionsResult Validate(RateLimitOptions rate) =>
        new FrameServerOptionsValidator().Validate(null, new FrameServerOptions { RateLimit = rate });
}
