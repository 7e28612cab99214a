using System.Buffers;
using System.Text;
using KestrelFrames.Processing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Processing;

/// <summary>From the classifier's lane name to the lane index the read loop stamps on a request.</summary>
public sealed class LaneRouterTests
{
    private readonly FakeLogger _logger = new();

    [Theory]
    [InlineData("high", 1)]
    [InlineData("HIGH", 1)] // Configuration keys are case-insensitive, so lane names are too.
    [InlineData("low", 2)]
    [InlineData("default", 0)]
    [InlineData(null, 0)]
    public void The_classifiers_name_picks_the_lane_of_that_name(string? name, int lane)
    {
        using var router = NewRouter(_ => name);

        Assert.Equal(lane, router.Route(Payload("x")));
        Assert.Empty(_logger.Collector.GetSnapshot());
    }

    [Fact]
    public void A_configured_names_own_instance_matches_too()
    {
        // Not the literal "high": a string built at run time, as a name read from a request would be.
        string built = new([.. "high"]);
        using var router = NewRouter(_ => built);

        Assert.Equal(1, router.Route(Payload("x")));
    }

    [Fact]
    public void A_name_that_is_not_configured_runs_in_the_default_lane_with_a_warning_naming_it()
    {
        using var router = NewRouter(_ => "urgent");

        Assert.Equal(0, router.Route(Payload("x")));

        FakeLogRecord warning = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("'urgent'", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_classifier_that_throws_runs_the_request_in_the_default_lane_with_a_warning()
    {
        using var router = NewRouter(_ => throw new InvalidOperationException("bad classifier"));

        Assert.Equal(0, router.Route(Payload("x")));

        FakeLogRecord warning = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.IsType<InvalidOperationException>(warning.Exception);
    }

    [Fact]
    public void The_classifier_sees_the_requests_payload()
    {
        using var router = NewRouter(payload => Encoding.UTF8.GetString(payload.FirstSpan));

        Assert.Equal(2, router.Route(Payload("low")));
        Assert.Equal(1, router.Route(Payload("high")));
    }

    private LaneRouter NewRouter(Func<ReadOnlySequence<byte>, string?> classify) =>
        new(new DelegateClassifier(classify), ["default", "high", "low"], _logger, new FakeTimeProvider());

    private static ReadOnlySequence<byte> Payload(string text) => new(Encoding.UTF8.GetBytes(text));

    private sealed class DelegateClassifier(Func<ReadOnlySequence<byte>, string?> classify) : IFrameLaneClassifier
    {
        public string? Classify(in ReadOnlySequence<byte> payload) => classify(payload);
    }
}
