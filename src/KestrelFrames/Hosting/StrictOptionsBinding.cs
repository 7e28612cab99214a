using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Hosting;

/// <summary>
/// Binds an options section so that a value of the wrong type fails like a value out of range, as an
/// <see cref="OptionsValidationException"/> naming the key. The binder's own InvalidOperationException surfaces
/// wherever the options are first read (HostOptions: inside <c>Build()</c>; SocketTransport: at Kestrel's start),
/// where only a stack trace reports it.
/// </summary>
internal static class StrictOptionsBinding
{
    public static OptionsBuilder<T> BindStrictly<T>(this OptionsBuilder<T> builder, IConfiguration section)
        where T : class
    {
        string name = builder.Name;
        return builder.Configure(options =>
        {
            try
            {
                section.Bind(options);
            }
            catch (InvalidOperationException ex)
            {
                // The binder's message names the key and the value: "Failed to convert configuration value 'x' at 'HostOptions:ShutdownTimeout'...".
                throw new OptionsValidationException(name, typeof(T), [ex.Message]);
            }
        });
    }
}
