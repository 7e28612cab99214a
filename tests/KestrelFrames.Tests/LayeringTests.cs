using System.Text.RegularExpressions;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests;

/// <summary>
/// The library's folders depend one way (docs/architecture.md, "Layers"): each folder is a namespace, so a
/// folder's <c>using KestrelFrames.X;</c> lines are its dependencies, and these tests fail on one that points up.
/// </summary>
public sealed partial class LayeringTests
{
    // Each folder, and the folders it may use. The root namespace (the public contracts) is visible to all of them
    // and uses none; the wire codec is another assembly, below everything.
    private static readonly Dictionary<string, string[]> s_allowed = new()
    {
        ["(root)"] = [],
        ["Protocol"] = [],
        ["Primitives"] = [],
        ["Transport"] = ["Primitives"],
        ["Observability"] = ["Protocol"],
        ["Processing"] = ["Protocol", "Primitives", "Observability"],
        ["Connections"] = ["Protocol", "Primitives", "Transport", "Observability", "Processing"],
        ["Hosting"] = ["Protocol", "Primitives", "Transport", "Observability", "Processing", "Connections"],

        // Public, for handler authors' tests: it stands in for the server, so it may use nothing of the server.
        ["Testing"] = [],
    };

    public static TheoryData<string> Folders => new(s_allowed.Keys);

    [Theory]
    [MemberData(nameof(Folders))]
    public void A_folder_uses_only_the_folders_below_it(string folder)
    {
        string directory = RepositoryFiles.Path(folder == "(root)" ? "src/KestrelFrames" : $"src/KestrelFrames/{folder}");
        var violations = new List<string>();
        foreach (string file in Directory.GetFiles(directory, "*.cs"))
        {
            string source = File.ReadAllText(file);
            // A folder's files are in its namespace, or in the root one: the public entry points (Hosting's extension
            // methods) live beside the code they wire up.
            Assert.Matches(folder == "(root)" ? "(?m)^namespace KestrelFrames;" : $@"(?m)^namespace KestrelFrames(\.{folder})?;", source);
            foreach (Match use in InternalNamespaceUse().Matches(source))
            {
                if (use.Groups[1].Value != folder && !s_allowed[folder].Contains(use.Groups[1].Value))
                {
                    violations.Add($"{Path.GetFileName(file)} uses {use.Groups[1].Value}");
                }
            }
        }

        Assert.True(violations.Count == 0, $"{folder} may use only [{string.Join(", ", s_allowed[folder])}]: {string.Join("; ", violations)}");
    }

    [Fact]
    public void Every_folder_of_the_library_has_a_layer()
    {
        string[] folders = [.. Directory.GetDirectories(RepositoryFiles.Path("src/KestrelFrames"))
            .Select(Path.GetFileName).Where(name => name is not ("bin" or "obj"))!];

        Assert.All(folders, folder => Assert.Contains(folder, s_allowed.Keys));
    }

    [Fact]
    public void The_public_surface_is_in_the_root_namespace()
    {
        Type[] exported = typeof(FrameServerOptions).Assembly.GetExportedTypes();

        Assert.NotEmpty(exported);
        // KestrelFrames.Testing (the handler authors' test double) is the one other public namespace.
        Assert.All(exported, type => Assert.Contains(type.Namespace, (string[])["KestrelFrames", "KestrelFrames.Testing"]));
        Assert.All(typeof(FrameCodec).Assembly.GetExportedTypes(), type => Assert.Equal("KestrelFrames", type.Namespace));
    }

    [GeneratedRegex(@"(?m)^using KestrelFrames\.(\w+);")]
    private static partial Regex InternalNamespaceUse();
}
