using System.Net.Sockets;
using Polly;
using Polly.Retry;

namespace KestrelFrames.Client.Internal;

/// <summary>The Polly pipelines behind <see cref="FrameReconnectOptions"/>: exponential backoff with jitter, on the client's clock.</summary>
internal static class FrameResilience
{
    /// <summary>Connection attempts: retried on transport failures, timeouts and a server that refuses (ConnectionLimit, ShuttingDown).</summary>
    public static ResiliencePipeline CreateReconnect(FrameReconnectOptions options, TimeProvider time)
    {
        if (options.MaxReconnectAttempts == 1)
        {
            return ResiliencePipeline.Empty;
        }

        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                // FrameConnectionClosedException is an IOException; an AuthenticationException (TLS) is not retried.
                ShouldHandle = new PredicateBuilder().Handle<IOException>().Handle<SocketException>().Handle<TimeoutException>(),
                MaxRetryAttempts = options.MaxReconnectAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.ReconnectDelay,
                MaxDelay = options.MaxReconnectDelay,
            })
            .Build();
    }

    /// <summary>Busy answers (not processed, so safe to repeat) are sent again; nothing else is retried.</summary>
    public static ResiliencePipeline<FrameResponse>? CreateBusyRetry(FrameReconnectOptions options, TimeProvider time)
    {
        if (options.MaxBusyRetries == 0)
        {
            return null;
        }

        return new ResiliencePipelineBuilder<FrameResponse> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<FrameResponse>
            {
                ShouldHandle = static args => new ValueTask<bool>(args.Outcome.Exception is null && args.Outcome.Result.Status == FrameResponseStatus.Busy),
                MaxRetryAttempts = options.MaxBusyRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BusyRetryDelay,
                MaxDelay = options.MaxBusyRetryDelay,
            })
            .Build();
    }
}
