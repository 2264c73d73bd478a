using CharRnn.ModelServer.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A refused start (charrnn serve's, the TUI's embedded server's) lets go of its host with ServerHost.LetGoRefused before
/// it reports why: a host whose dispose fails must not turn the refusal into that failure.
/// </summary>
public sealed class LetGoRefusedTests
{
    /// <summary>A service whose dispose fails, as a logger's last flush on a full disk does.</summary>
    private sealed class FailsToDispose : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose()
        {
            Disposed = true;
            throw new IOException("No space left on device");
        }
    }

    private static (WebApplication App, FailsToDispose Service) HostThatFailsToDispose()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddSingleton<FailsToDispose>();
        var app = builder.Build();
        return (app, app.Services.GetRequiredService<FailsToDispose>()); // made, so the host disposes it
    }

    [Fact]
    public async Task Letting_go_of_a_host_whose_dispose_fails_disposes_it_and_throws_nothing()
    {
        var (plain, _) = HostThatFailsToDispose();
        await Assert.ThrowsAsync<IOException>(async () => await plain.DisposeAsync()); // what a `using` would throw over the refusal

        var (app, service) = HostThatFailsToDispose(); // never started, as a start refused early
        await ServerHost.LetGoRefused(app);
        Assert.True(service.Disposed);
    }
}
