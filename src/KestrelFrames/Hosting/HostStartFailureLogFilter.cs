namespace KestrelFrames.Server;

/// <summary>
/// Keeps the host's "Hosting failed to start" Error line, with its stack trace, out of the log until the host has
/// started. The same exception comes out of RunAsync, where Program either turns it into one line naming the key
/// or lets it end the process, which prints it in full: the log line only ever repeats it.
/// </summary>
internal sealed class HostStartFailureLogFilter
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";
    private volatile bool _started;

    public void Register(ILoggingBuilder logging) =>
        // This category logs at Debug otherwise (starting, started, stopping), which Information already hides; a
        // rule for it replaces the configured level, so the rule keeps Information as its floor.
        logging.AddFilter(HostCategory, level => level >= LogLevel.Information && (_started || level != LogLevel.Error));

    public void Started() => _started = true;
}
