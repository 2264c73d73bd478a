using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// What a start refuses from its settings and files alone (the corpora folder, the keys file, the TLS files), run before
/// the host starts: its hosted services are all made before the first one's check runs, and making the device loop opens
/// the database, which makes a missing models folder. A refused start must leave no folder behind, or the next start would
/// not say it made one, the line that shows a typo in --models. The hosted checks still run (hosts started otherwise, the
/// tests' WebApplicationFactory); a failure only binding finds (a port in use) is undone by <see cref="Persistence.ServerDatabase"/>.
/// </summary>
public static class StartChecks
{
    public static void Run(WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value;
        SecurityCheck.Check(options, app.Configuration);
        CorporaFolderCheck.Check(options);
        ServerHost.CheckMetricsListenDiffers(options);
        _ = app.Services.GetRequiredService<ServerCertificate>().Certificate; // the listener's own, read once
    }
}
