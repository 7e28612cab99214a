using System.Text;
using KestrelFrames.Testing;
using KeyValue.Protocol;

namespace KeyValue.Tests;

/// <summary>
/// Reads a key-value answer out of KestrelFrames' <see cref="TestFrameContext"/>, the package's stand-in for the
/// server in a handler's unit tests.
/// </summary>
internal static class KeyValueAnswers
{
    /// <summary>The answer's status, version and body; the body as text, which the tests' values and reasons are.</summary>
    public static (KeyValueStatus Status, long Version, string Body) Parsed(this TestFrameContext frame)
    {
        KeyValueResponse response = Parse(frame);
        return (response.Status, response.Version, Encoding.UTF8.GetString(response.Body));
    }

    /// <summary>The answer to a STATS request: its request count.</summary>
    public static long RequestCount(this TestFrameContext frame)
    {
        KeyValueResponse response = Parse(frame);
        Assert.Equal(KeyValueStatus.Ok, response.Status);
        Assert.True(KeyValueCodec.TryReadStats(response.Body, out long requests));
        return requests;
    }

    private static KeyValueResponse Parse(TestFrameContext frame)
    {
        Assert.False(frame.RespondedWithRequest, "the key-value handler never echoes");
        Assert.True(KeyValueResponse.TryParse(frame.Answer.Span, out KeyValueResponse response), "not a key-value answer");
        return response;
    }
}
