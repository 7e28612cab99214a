using KeyValue.Protocol;

namespace KeyValue.Client;

/// <summary>
/// The server answered something this client did not ask for: an error status (a malformed request means a bug here,
/// or a server of another version), a status that does not fit the operation, or an answer that does not parse.
/// </summary>
public sealed class KeyValueException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KeyValueException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public KeyValueException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public KeyValueException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for an answer with <paramref name="status"/>.</summary>
    public KeyValueException(string message, KeyValueStatus status)
        : base(message)
    {
        Status = status;
    }

    /// <summary>The answer's status; null when the answer did not parse.</summary>
    public KeyValueStatus? Status { get; }
}
