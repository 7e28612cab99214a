using System.Globalization;
using System.Net.Sockets;
using System.Text;
using KeyValue.Client;
using KeyValue.Protocol;

// kv [--host H] [--port P] command...   Runs the commands in order, on one connection, so `stats` counts them.
const string Usage = """
    usage: kv [--host 127.0.0.1] [--port 9010] command...
      get KEY                    the value and its version
      set KEY VALUE              write; prints the new version
      cas KEY VERSION VALUE      write only if KEY is at VERSION
      del KEY                    remove
      stats                      requests this connection has sent, this one included
    """;

string host = "127.0.0.1";
int port = 9010;
var commands = new Queue<string>(args);
while (commands.TryPeek(out string? option) && option.StartsWith("--", StringComparison.Ordinal))
{
    commands.Dequeue();
    if (!commands.TryDequeue(out string? setting))
    {
        return Fail($"{option} needs a value");
    }

    switch (option)
    {
        case "--host":
            host = setting;
            break;
        case "--port" when int.TryParse(setting, CultureInfo.InvariantCulture, out int number):
            port = number;
            break;
        default:
            return Fail($"unknown option {option} {setting}");
    }
}

if (commands.Count == 0)
{
    return Fail("no command");
}

await using KeyValueClient? client = await TryConnectAsync(host, port);
if (client is null)
{
    return 2;
}

while (commands.TryDequeue(out string? command))
{
    switch (command)
    {
        case "get" when commands.TryDequeue(out string? key):
            VersionedValue? found = await client.GetAsync(key);
            Console.WriteLine(found is { } entry ? $"{key} = {Encoding.UTF8.GetString(entry.Value.Span)} (version {entry.Version})" : $"{key}: not found");
            break;
        case "set" when commands.TryDequeue(out string? key) && commands.TryDequeue(out string? value):
            Print(key, await client.SetAsync(key, Encoding.UTF8.GetBytes(value)));
            break;
        case "cas" when commands.TryDequeue(out string? key) && commands.TryDequeue(out string? expected)
                        && long.TryParse(expected, CultureInfo.InvariantCulture, out long version) && commands.TryDequeue(out string? value):
            Print(key, await client.SetAsync(key, Encoding.UTF8.GetBytes(value), version));
            break;
        case "del" when commands.TryDequeue(out string? key):
            Print(key, await client.DeleteAsync(key));
            break;
        case "stats":
            Console.WriteLine($"this connection: {await client.GetSessionRequestCountAsync()} request(s)");
            break;
        default:
            return Fail($"cannot run '{command}'");
    }
}

return 0;

static void Print(string key, KeyValueWriteResult result) => Console.WriteLine(result.Status switch
{
    KeyValueStatus.Ok => $"{key}: ok, version {result.Version}",
    KeyValueStatus.NotFound => $"{key}: not found",
    _ => $"{key}: version mismatch, the key is at version {result.Version}",
});

static async Task<KeyValueClient?> TryConnectAsync(string host, int port)
{
    try
    {
        return await KeyValueClient.ConnectAsync(host, port);
    }
    catch (SocketException ex)
    {
        Console.Error.WriteLine($"kv: cannot connect to {host}:{port} ({ex.SocketErrorCode}); is the server running? dotnet run --project samples/KeyValue/KeyValue.Server");
        return null;
    }
}

static int Fail(string message)
{
    Console.Error.WriteLine($"kv: {message}");
    Console.Error.WriteLine(Usage);
    return 1;
}
