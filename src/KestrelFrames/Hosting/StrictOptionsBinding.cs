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

    /// <summary>
    /// Binds what parses and leaves the rest at its default, for options read where a failure cannot be reported in
    /// one line (HostOptions and SocketTransport, inside <c>Build()</c>); <see cref="BindStrictly{T}(IConfiguration)"/> then reports the
    /// value by name, before the start.
    /// </summary>
    public static OptionsBuilder<T> BindLeniently<T>(this OptionsBuilder<T> builder, IConfiguration section)
        where T : class =>
        builder.Configure(options =>
        {
            try
            {
                section.Bind(options);
            }
            catch (InvalidOperationException)
            {
                // Reported by FrameServerValidation before the host starts, which it then does not.
            }
        });

    /// <summary>A fresh <typeparamref name="T"/> bound from <paramref name="section"/>, failing by name as <see cref="BindStrictly{T}(OptionsBuilder{T}, IConfiguration)"/> does.</summary>
    public static T BindStrictly<T>(this IConfiguration section)
        where T : class, new()
    {
        var options = new T();
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(T), [ex.Message]);
        }

        return options;
    }
}
