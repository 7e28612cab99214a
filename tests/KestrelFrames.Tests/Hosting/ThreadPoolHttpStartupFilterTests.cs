using KestrelFrames.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Hosting;

public sealed class ThreadPoolHttpStartupFilterTests
{
    [Fact]
    public async Task Http_requests_run_on_the_thread_pool_not_on_the_transports_io_thread()
    {
        // With inline scheduling and inline socket completions (the test host runs with both, as the server
        // does), Kestrel parses a request on the runtime's epoll thread and would call the app right there.
        await using var server = TestFrameServer.Start(services: services => services.AddTransient<IStartupFilter, ThreadProbe>());

        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("True", await server.Http.GetStringAsync("/thread-probe"));
        }
    }

    private sealed class ThreadProbe : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Map("/thread-probe", probe => probe.Run(context =>
                context.Response.WriteAsync(Thread.CurrentThread.IsThreadPoolThread.ToString())));
            next(app);
        };
    }
}
