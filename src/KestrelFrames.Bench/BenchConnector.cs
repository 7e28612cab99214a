using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace KestrelFrames.Bench;

/// <summary>Opens one connection of a run: TCP, and TLS over it when asked. The caller counts failures.</summary>
internal static class BenchConnector
{
    public static async Task<(Socket Socket, Stream Stream)> ConnectAsync(IPAddress[] addresses, BenchOptions options, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout);
            await socket.ConnectAsync(addresses, options.Port, timeout.Token);
            var stream = new NetworkStream(socket, ownsSocket: true);
            if (!options.Tls && !options.TlsInsecure)
            {
                return (socket, stream);
            }

            var tls = new SslStream(stream, leaveInnerStreamOpen: false);
            try
            {
                var authentication = new SslClientAuthenticationOptions { TargetHost = options.Host };
                if (options.TlsInsecure)
                {
                    // --tls-insecure is the explicit opt-in for self-signed test certificates.
#pragma warning disable CA5359
                    authentication.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
                }

                await tls.AuthenticateAsClientAsync(authentication, timeout.Token);
                return (socket, tls);
            }
            catch
            {
                await tls.DisposeAsync();
                throw;
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
