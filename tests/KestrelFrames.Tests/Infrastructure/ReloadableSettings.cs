using Microsoft.Extensions.Configuration;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// A configuration source a test edits while the server runs: <see cref="Change"/> raises the reload a saved
/// appsettings.json raises, on the test's own thread, so the reload has run when it returns.
/// </summary>
public sealed class ReloadableSettings : ConfigurationProvider, IConfigurationSource
{
    public ReloadableSettings(IReadOnlyDictionary<string, string?>? initial = null)
    {
        foreach (var (key, value) in initial ?? new Dictionary<string, string?>())
        {
            Data[key] = value;
        }
    }

    /// <summary>For <c>TestFrameServer.Start</c>: adds this source last, over every other.</summary>
    public Action<IConfigurationBuilder> AddTo => builder => builder.Add(this);

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>Sets each key (a null value removes it) and reloads once, as one saved edit does.</summary>
    public void Change(params (string Key, string? Value)[] values)
    {
        foreach (var (key, value) in values)
        {
            if (value is null)
            {
                Data.Remove(key);
            }
            else
            {
                Data[key] = value;
            }
        }

        OnReload();
    }
}
