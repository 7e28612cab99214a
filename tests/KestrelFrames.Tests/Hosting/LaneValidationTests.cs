using KestrelFrames.Hosting;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Tests.Hosting;

/// <summary>Frames:Lanes:* at start: each failure names the key as an operator writes it.</summary>
public sealed class LaneValidationTests
{
    [Fact]
    public void Lanes_with_their_own_priorities_and_workers_to_spare_are_accepted()
    {
        FrameServerOptions options = WithLanes(
            ("high", new FrameLaneOptions { Priority = 10, QueueCapacity = 64, ReservedWorkers = 4 }),
            ("bulk", new FrameLaneOptions { Priority = -1, QueueCapacity = 4096 }));

        Assert.True(Validate(options).Succeeded);
    }

    [Fact]
    public void No_lanes_is_the_default()
    {
        Assert.Empty(new FrameServerOptions().Lanes);
        Assert.True(Validate(new FrameServerOptions()).Succeeded);
    }

    [Theory]
    [InlineData(0, 1024, 0, "Frames:Lanes:high:Priority must be set")]
    [InlineData(1, 0, 0, "Frames:Lanes:high:QueueCapacity must be between 1 and 10000000 (was 0)")]
    [InlineData(1, 16, -1, "Frames:Lanes:high:ReservedWorkers must be between 0 and 7 (was -1)")]
    [InlineData(1, 16, 8, "Frames:Lanes:high:ReservedWorkers must be between 0 and 7 (was 8)")]
    public void A_bad_lane_value_fails_naming_its_key(int priority, int queueCapacity, int reservedWorkers, string failure)
    {
        FrameServerOptions options = WithLanes(("high", new FrameLaneOptions { Priority = priority, QueueCapacity = queueCapacity, ReservedWorkers = reservedWorkers }));

        ValidateOptionsResult result = Validate(options);

        Assert.Contains(result.Failures!, f => f.StartsWith(failure, StringComparison.Ordinal));
    }

    [Fact]
    public void Two_lanes_with_one_priority_fail_naming_both()
    {
        FrameServerOptions options = WithLanes(("a", new FrameLaneOptions { Priority = 5 }), ("b", new FrameLaneOptions { Priority = 5 }));

        string failure = Assert.Single(Validate(options).Failures!);

        Assert.Equal("Frames:Lanes:b:Priority (5) is also Frames:Lanes:a's: each lane needs its own.", failure);
    }

    [Fact]
    public void Reserved_workers_that_leave_none_shared_fail()
    {
        FrameServerOptions options = WithLanes(("a", new FrameLaneOptions { Priority = 1, ReservedWorkers = 4 }), ("b", new FrameLaneOptions { Priority = 2, ReservedWorkers = 4 }));

        string failure = Assert.Single(Validate(options).Failures!);

        Assert.Equal("Frames:Lanes:*:ReservedWorkers add up to 8, which must leave at least one of Frames:Workers (8) shared.", failure);
    }

    [Fact]
    public void The_default_lane_cannot_be_configured_as_a_lane()
    {
        FrameServerOptions options = WithLanes(("Default", new FrameLaneOptions { Priority = 1 }));

        string failure = Assert.Single(Validate(options).Failures!);

        Assert.StartsWith("Frames:Lanes:Default cannot be configured", failure, StringComparison.Ordinal);
    }

    private static FrameServerOptions WithLanes(params (string Name, FrameLaneOptions Lane)[] lanes)
    {
        var options = new FrameServerOptions { Workers = 8 };
        foreach ((string name, FrameLaneOptions lane) in lanes)
        {
            options.Lanes[name] = lane;
        }

        return options;
    }

    private static ValidateOptionsResult Validate(FrameServerOptions options) => new FrameServerOptionsValidator().Validate(null, options);
}
