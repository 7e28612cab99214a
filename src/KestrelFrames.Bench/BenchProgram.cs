namespace KestrelFrames.Bench;

/// <summary>Entry point of <c>kestrelframes-bench</c>.</summary>
internal static class BenchProgram
{
    /// <summary>Read once, when the first socket operation starts the runtime's socket engine.</summary>
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static Task<int> Main(string[] args)
    {
        // Run socket completions on the runtime's epoll threads instead of handing each to the thread pool: the
        // receive loop's work per read is short (parse, record, send the next batch), and skipping the hand-off
        // roughly halves the client's CPU per request at moderate rates. Set the variable to 0 to compare.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        return BenchCli.InvokeAsync(args);
    }
}
