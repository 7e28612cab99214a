using KestrelFrames.Hosting;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace KestrelFrames.Tests.Hosting;

/// <summary>Keys the options do not have, caught before the binder drops them; each failure names the key as written.</summary>
public sealed class ConfigurationKeyValidatorTests
{
    [Fact]
    public void Every_key_the_shipped_settings_file_uses_is_known()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddJsonFile(RepositoryFiles.Path("appsettings.json"))
            .Build();

        Assert.Empty(Validate(configuration));
    }

    [Fact]
    public void Keys_in_any_case_lanes_by_any_name_and_list_entries_are_known()
    {
        Assert.Empty(Validate(
            ("frames:maxconnections", "5"),
            ("Frames:Lanes:Admin:Priority", "10"),
            ("Frames:Lanes:bulk:QueueCapacity", "64"),
            ("Frames:ProxyProtocol:TrustedProxies:0", "10.0.0.0/8"),
            ("Frames:RateLimit:Burst", "10"),
            ("HostOptions:ShutdownTimeout", "00:00:30")));
    }

    [Theory]
    [InlineData("Frames:MaxConection", "Frames:MaxConection is not a setting; did you mean Frames:MaxConnections?")]
    [InlineData("Frames:Lanes:admin:Priorty", "Frames:Lanes:admin:Priorty is not a setting; did you mean Frames:Lanes:admin:Priority?")]
    [InlineData("Frames:RateLimit:RequestPerSecond", "Frames:RateLimit:RequestPerSecond is not a setting; did you mean Frames:RateLimit:RequestsPerSecond?")]
    [InlineData("HostOptions:ShutdownTimout", "HostOptions:ShutdownTimout is not a setting; did you mean HostOptions:ShutdownTimeout?")]
    [InlineData("Frames:Colour", "Frames:Colour is not a setting")]
    public void A_key_the_options_do_not_have_is_named_with_the_nearest_one(string key, string failure)
    {
        Assert.Equal(failure, Assert.Single(Validate((key, "1"))));
    }

    [Fact]
    public void A_section_with_keys_below_it_is_named_once()
    {
        Assert.Equal(
            "Frames:Limits is not a setting",
            Assert.Single(Validate(("Frames:Limits:MaxConnections", "5"), ("Frames:Limits:Workers", "8"))));
    }

    [Theory]
    [InlineData("Frames:IdleTimeout", "30", 1)]
    [InlineData("Frames:ProxyProtocol:HeaderTimeout", "5", 1)]
    [InlineData("Frames:IdleTimeout", "0", 0)]
    [InlineData("Frames:Lanes:admin:Priority", "1", 0)]
    public void A_bare_number_is_refused_only_where_a_timeout_is_meant(string key, string value, int failures)
    {
        Assert.Equal(failures, Validate((key, value)).Count);
    }

    private static List<string> Validate(params (string Key, string? Value)[] settings) =>
        Validate(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, s.Value)))
            .Build());

    private static List<string> Validate(IConfiguration configuration)
    {
        var failures = new List<string>();
        ConfigurationKeyValidator.Validate(configuration, failures);
        return failures;
    }
}
