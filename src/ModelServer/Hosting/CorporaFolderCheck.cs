using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// At start-up: refuses a configured corpora folder that is empty, a file, or missing. Served as an
/// empty folder, a typo in CharRnn:CorporaDirectory would look like a folder with no *.txt files.
/// `charrnn serve --corpora` checks its flag before this; the standalone host has only this check.
/// </summary>
public sealed class CorporaFolderCheck(IOptions<ServerOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Check(options.Value);
        return Task.CompletedTask;
    }

    /// <summary>Also run by <see cref="StartChecks"/>, before the models folder is made.</summary>
    public static void Check(ServerOptions options)
    {
        if (options.CorporaDirectory is not { } path) return;
        const string Setting = "CharRnn:CorporaDirectory (--corpora)";
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException($"{Setting} is empty; give a folder of *.txt files, or leave it unset for the known corpora only.");
        if (File.Exists(path))
            throw new ArgumentException($"{Setting} '{path}' is a file; give the folder that holds the *.txt corpora.");
        if (!Directory.Exists(path))
            throw new ArgumentException($"{Setting} '{path}' does not exist; give a folder of *.txt files, or leave it unset for the known corpora only.");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
