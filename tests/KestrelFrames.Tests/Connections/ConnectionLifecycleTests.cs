using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KestrelFrames.Tests.Connections;

/// <summary>IFrameConnectionLifecycle: a hook when a connection is ready, and one when it ends, with why.</summary>
public sealed class ConnectionLifecycleTests
{
    [Fact]
    public async Task A_session_set_up_on_connect_is_what_the_handler_sees_and_is_torn_down_when_the_client_closes()
    {
        var lifecycle = new RecordingLifecycle();
        await using var server = TestFrameServer.Start(services: services =>
        {
            services.AddSingleton<IFrameConnectionLifecycle>(lifecycle);
            DelegateFrameHandler.Use((frame, _) =>
            {
                frame.Response.Write(Encoding.ASCII.GetBytes((string)frame.Connection.Items["session"]!));
                return ValueTask.CompletedTask;
            })(services);
        });

        using (var client = await server.ConnectAsync())
        {
            FrameConnectionInfo connected = await lifecycle.Connected.Reader.ReadAsync();
            await client.SendFrameAsync("who"u8);
            Assert.Equal($"session of {connected.Id}", Encoding.ASCII.GetString((await client.ReadRequiredFrameAsync()).Payload));
        }

        var (closing, reason) = await lifecycle.Closing.Reader.ReadAsync();
        Assert.Equal(FrameCloseReason.ClientClosed, reason);
        Assert.Equal($"session of {closing.Id}", closing.Items["session"]);
    }

    [Fact]
    public async Task Closing_runs_only_after_the_last_request_of_the_connection_was_handled_and_answered()
    {
        var order = new ConcurrentQueue<string>();
        var lifecycle = new RecordingLifecycle { OnClosing = () => order.Enqueue("closing") };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = TestFrameServer.Start(services: services =>
        {
            services.AddSingleton<IFrameConnectionLifecycle>(lifecycle);
            DelegateFrameHandler.Use(async (frame, _) =>
            {
                await gate.Task;
                await DelegateFrameHandler.Echo(frame);
                order.Enqueue("handled");
            })(services);
        });
        using var client = await server.ConnectAsync();
        await client.SendFrameAsync("held"u8);
        client.Socket.Shutdown(SocketShutdown.Send);

        // The client has half-closed with a request in flight: the connection is not over until it is answered.
        Task<(FrameConnectionInfo, FrameCloseReason)> closing = lifecycle.Closing.Reader.ReadAsync().AsTask();
        gate.SetResult();

        Assert.Equal("held"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
        Assert.Equal(FrameCloseReason.ClientClosed, (await closing).Item2);
        Assert.Equal(["handled", "closing"], order);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Theory]
    [InlineData(new byte[] { 0x7F, 0, 0, 0 }, FrameCloseReason.FrameTooLarge)]
    [InlineData(new byte[] { 0x80, 0, 0, 1 }, FrameCloseReason.ProtocolError)]
    public async Task Closing_names_the_status_the_server_ended_a_connection_with(byte[] header, FrameCloseReason expected)
    {
        var lifecycle = new RecordingLifecycle();
        await using var server = TestFrameServer.Start(services: services => services.AddSingleton<IFrameConnectionLifecycle>(lifecycle));
        using var client = await server.ConnectAsync();

        await client.SendRawAsync(header);

        Assert.True((await client.ReadRequiredFrameAsync()).IsStatus);
        Assert.Equal(expected, (await lifecycle.Closing.Reader.ReadAsync()).Reason);
    }

    [Fact]
    public async Task Closing_says_shutting_down_when_the_server_drains()
    {
        var lifecycle = new RecordingLifecycle();
        var server = TestFrameServer.Start(services: services => services.AddSingleton<IFrameConnectionLifecycle>(lifecycle));
        try
        {
            using var client = await server.ConnectAsync();
            await client.SendFrameAsync("x"u8);
            await client.ReadRequiredFrameAsync();

            Task stopping = server.StopAsync();
            Assert.Equal(FrameStatus.ShuttingDown, (await client.ReadRequiredFrameAsync()).Status);
            Assert.Equal(FrameCloseReason.ShuttingDown, (await lifecycle.Closing.Reader.ReadAsync()).Reason);
            client.Dispose();
            await stopping;
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_handler_that_implements_the_hooks_itself_gets_them_without_registering_them()
    {
        var handler = new LifecycleEcho();
        await using var server = TestFrameServer.Start(services: services => services.Replace(ServiceDescriptor.Singleton<IFrameHandler>(handler)));
        using (var client = await server.ConnectAsync())
        {
            await client.SendFrameAsync("x"u8);
            await client.ReadRequiredFrameAsync();
        }

        Assert.Equal(FrameCloseReason.ClientClosed, (await handler.Closing.Reader.ReadAsync()).Reason);
        Assert.True(handler.Connected.Reader.TryRead(out _));
    }

    [Fact]
    public async Task A_failing_connect_hook_closes_the_connection_without_an_answer_or_a_reset_and_logs_an_error()
    {
        var lifecycle = new RecordingLifecycle { FailOnConnect = true };
        var logs = new LogWaiter();
        await using var server = TestFrameServer.Start(services: services =>
        {
            logs.Register(services);
            services.AddSingleton<IFrameConnectionLifecycle>(lifecycle);
        });
        using var client = await server.ConnectAsync();
        await client.SendFrameAsync("never answered"u8);

        Assert.True(await client.IsClosedByServerAsync());
        string line = await logs.WaitForAsync("OnConnectedAsync failed");
        Assert.Contains("Error", line, StringComparison.Ordinal);
        Assert.False(lifecycle.Closing.Reader.TryRead(out _));
    }

    private sealed class LifecycleEcho : IFrameHandler, IFrameConnectionLifecycle
    {
        public Channel<FrameConnectionInfo> Connected { get; } = Channel.CreateUnbounded<FrameConnectionInfo>();

        public Channel<(FrameConnectionInfo Connection, FrameCloseReason Reason)> Closing { get; } =
            Channel.CreateUnbounded<(FrameConnectionInfo, FrameCloseReason)>();

        public ValueTask HandleAsync(FrameContext frame, CancellationToken cancellationToken)
        {
            frame.RespondWithRequest();
            return ValueTask.CompletedTask;
        }

        public ValueTask OnConnectedAsync(FrameConnectionInfo connection, CancellationToken cancellationToken)
        {
            Connected.Writer.TryWrite(connection);
            return ValueTask.CompletedTask;
        }

        public ValueTask OnClosingAsync(FrameConnectionInfo connection, FrameCloseReason reason)
        {
            Closing.Writer.TryWrite((connection, reason));
            return ValueTask.CompletedTask;
        }
    }
}
