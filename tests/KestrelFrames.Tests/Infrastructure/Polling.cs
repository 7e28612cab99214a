namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// For states that raise no event a test could await: a descriptor closed or a block returned on an event loop's
/// thread after the connection's handler has already returned. Not a time limit on the server: the condition is
/// checked every 10 ms and fails the test only if it still does not hold after 3,000 checks (30 s or more).
/// </summary>
internal static class Polling
{
    public static Task UntilAsync(Func<bool> condition, Func<string> failure) =>
        UntilAsync(() => Task.FromResult(condition()), failure);

    /// <summary>For a condition that must itself wait (a connection attempt): never block a test thread on it.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, Func<string> failure)
    {
        for (int attempt = 0; !await condition(); attempt++)
        {
            Assert.True(attempt < 3_000, failure());
            await Task.Delay(10);
        }
    }
}
