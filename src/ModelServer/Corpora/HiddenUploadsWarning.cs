namespace CharRnn.ModelServer.Corpora;

/// <summary>
/// At start-up: warns of each upload that a file of the same name in the corpora folder hides. The folder's file takes
/// the name (jobs naming it train on the file), which the upload's owner sees only as "hidden" in ListCorpora: the
/// operator, who added the file, is told here.
/// </summary>
public sealed class HiddenUploadsWarning(CorpusStore corpora, ILogger<HiddenUploadsWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var (name, owner) in corpora.HiddenUploads())
            logger.LogWarning("Uploaded corpus {Corpus} (owner {Owner}) is hidden by the corpora folder's {File}: jobs naming {Corpus} train on that file. " +
                              "Rename the file, or ask the upload's owner to upload the text under another name.", name, owner ?? "none: admins only", name + ".txt", name);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
