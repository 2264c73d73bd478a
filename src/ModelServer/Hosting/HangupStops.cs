using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// SIGHUP (the terminal that started the server closed, an ssh session dropped) stops the server as
/// SIGTERM does: streams end with UNAVAILABLE, the running job checkpoints, the model's lock goes.
/// The default lifetime catches SIGINT, SIGQUIT and SIGTERM only; without this, SIGHUP's default
/// action killed the process (rc 129) with none of that done.
/// </summary>
public sealed class HangupStops(IHostApplicationLifetime lifetime) : IHostedService, IDisposable
{
    private PosixSignalRegistration? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsWindows())
            _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true; // not the default action (exit): the host stops itself
                lifetime.StopApplication();
            });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _registration?.Dispose();
}
