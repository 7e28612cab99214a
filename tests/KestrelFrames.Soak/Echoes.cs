namespace KestrelFrames.Soak;

/// <summary>Checks that pipelined requests came back as the echo handler promises: each once, whole, in order.</summary>
internal static class Echoes
{
    /// <summary>Answers longer than any request the soak clients send are a violation, not a reason to allocate.</summary>
    public const int MaxAnswer = 1 << 20;

    /// <summary>Reads one answer per payload; null when all match, else the first difference.</summary>
    public static async Task<string?> VerifyAsync(SoakConnection connection, IReadOnlyList<byte[]> payloads, CancellationToken cancellationToken)
    {
        for (int i = 0; i < payloads.Count; i++)
        {
            ServerFrame? answer = await connection.ReadFrameAsync(MaxAnswer, cancellationToken);
            string position = $"answer {i + 1} of {payloads.Count}";
            if (answer is null)
            {
                return $"the server closed before {position}";
            }

            if (answer.IsStatus)
            {
                return $"{position} was {answer.Describe()}";
            }

            byte[] expected = payloads[i];
            if (!answer.Payload.AsSpan().SequenceEqual(expected))
            {
                int differs = answer.Payload.AsSpan().CommonPrefixLength(expected);
                return $"{position} has {answer.Payload.Length} bytes, the request had {expected.Length}; first difference at byte {differs}";
            }
        }

        return null;
    }
}
