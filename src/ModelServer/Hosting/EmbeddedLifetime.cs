using Microsoft.Extensions.Hosting;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// The lifetime of a server inside another program (charrnn's TUI and --exec): that program
/// decides what Ctrl+C and SIGTERM do, and stops the server itself. The default lifetime would
/// stop the server on Ctrl+C while the program's commands still use it.
/// </summary>
public sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
