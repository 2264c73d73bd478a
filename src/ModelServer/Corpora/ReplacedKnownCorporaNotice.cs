namespace CharRnn.ModelServer.Corpora;

/// <summary>
/// At start-up: says which built-in corpus a file in the corpora folder stands in for (nietzsche.txt). The file is
/// used, as the operator meant; a warning where its text differs, because models trained on the built-in text then
/// cannot be resumed, and jobs that name no corpus train on the file.
/// </summary>
public sealed class ReplacedKnownCorporaNotice(CorpusStore corpora, ILogger<ReplacedKnownCorporaNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var (name, file, same) in corpora.KnownCorporaReplaced())
        {
            var shown = Path.GetFileName(file);
            if (same == true)
                logger.LogInformation("The corpora folder's {File} holds the built-in {Corpus} text: jobs naming {Corpus} read it there, with nothing to fetch.", shown, name, name);
            else if (same == false)
                logger.LogWarning("The corpora folder's {File} is the corpus {Corpus}, in place of the built-in one, whose text differs: jobs naming {Corpus} (or no corpus) " +
                                  "train on that file, and models trained on the built-in text cannot be resumed while it is there. Rename the file to offer both.", shown, name, name);
            else
                logger.LogWarning("The corpora folder's {File} stands in for the built-in corpus {Corpus} but cannot be read as a corpus (ListCorpora says why): jobs naming " +
                                  "{Corpus} (or no corpus) are refused while it is there. Fix the file, or rename it to train on the built-in text.", shown, name, name);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
