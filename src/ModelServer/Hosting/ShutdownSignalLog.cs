using System.Runtime.InteropServices;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// Logs the signal that stops the server (SIGTERM from systemd or docker stop, Ctrl+C, SIGQUIT, SIGHUP)
/// as the shutdown starts: before, the log said only "Device loop stopped" at its end, and an operator
/// could not tell a stop asked for from a crash. It only logs: the host's lifetime (and
/// <see cref="HangupStops"/>) act on the signal as before.
/// </summary>
public sealed class ShutdownSignalLog(ILogger<ShutdownSignalLog> logger) : IHostedService, IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows()) return Task.CompletedTask;
        foreach (var (signal, name) in new[] { (PosixSignal.SIGTERM, "SIGTERM"), (PosixSignal.SIGINT, "SIGINT"), (PosixSignal.SIGQUIT, "SIGQUIT"), (PosixSignal.SIGHUP, "SIGHUP") })
            _registrations.Add(PosixSignalRegistration.Create(signal, _ =>
                logger.LogInformation("Received {Signal}: shutting down (streams end with UNAVAILABLE, the running job saves a checkpoint and resumes at the next start)", name)));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _registrations.ForEach(r => r.Dispose());
}
