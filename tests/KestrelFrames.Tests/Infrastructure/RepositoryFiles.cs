namespace KestrelFrames.Tests.Infrastructure;

/// <summary>Files of the repository the tests run from (found by walking up to KestrelFrames.sln).</summary>
internal static class RepositoryFiles
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "KestrelFrames.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("KestrelFrames.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Path(string relative) => System.IO.Path.Combine(s_root.Value, relative);

    public static string Read(string relative) => File.ReadAllText(Path(relative));
}
