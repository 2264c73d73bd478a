using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Security;

namespace CharRnn.ModelServer.Jobs;

/// <summary>Keeping an uploaded corpus and the jobs that train on it apart while it is replaced or deleted.</summary>
public sealed partial class JobQueue
{
    private readonly HashSet<string> _corporaChanging = new(StringComparer.Ordinal);
    // Counts the holds taken and released; each corpus's last one: a plan made before it read text that may be gone.
    private long _corpusChanges;
    private readonly Dictionary<string, long> _corpusChangedAt = new(StringComparer.Ordinal);

    /// <summary>Read before a job is planned, kept in <see cref="JobPlan.CorpusChangesSeen"/>.</summary>
    public long CorpusChangeCount
    {
        get { lock (_gate) return _corpusChanges; }
    }

    /// <summary>Under the lock: marks <paramref name="corpusName"/> changed now (a hold taken, or released after the change).</summary>
    private void MarkCorpusChanged(string corpusName) => _corpusChangedAt[corpusName] = ++_corpusChanges;

    /// <summary>
    /// Holds <paramref name="corpusName"/> against new jobs until disposed, for a replacement or deletion of it:
    /// FAILED_PRECONDITION naming the job when a queued or running one trains on it (its text is in the job's
    /// memory, and a restart or resume would read the corpus again and find other text, or none).
    /// </summary>
    /// <param name="action">What the caller does to it ("delete", "replace"), for the message.</param>
    public IDisposable HoldCorpus(string corpusName, string action, Caller caller)
    {
        lock (_gate)
        {
            if (Active().FirstOrDefault(j => j.Plan is { UploadedCorpus: false } plan && plan.CorpusName == corpusName) is { } job)
            {
                var state = job.ReportedState; // as GetJob says: "queued" still while the device thread starts it
                throw caller.Owns(job.Owner)
                    ? ServerException.Precondition($"Corpus '{corpusName}' is used by job {job.Id} (model '{job.ModelName}', {state}); wait for it to end or stop it (StopJob), then {action} the corpus.",
                        ("corpus", corpusName), ("job_id", job.Id), ("model", job.ModelName))
                    : ServerException.Precondition($"Corpus '{corpusName}' is used by another key's job ({state}); wait for it to end, then {action} the corpus.", ("corpus", corpusName));
            }
            _corporaChanging.Add(corpusName);
            MarkCorpusChanged(corpusName);
        }
        return new CorpusHold(this, corpusName);
    }

    /// <summary>Part of CheckAdmits, under the lock: no new job on a corpus being replaced or deleted.</summary>
    private void CheckCorpusSteady(JobPlan plan)
    {
        if (!plan.UploadedCorpus && _corporaChanging.Contains(plan.CorpusName))
            throw ServerException.Precondition($"Corpus '{plan.CorpusName}' is being replaced or deleted; start the job again once that has finished.", ("corpus", plan.CorpusName));
        if (!plan.UploadedCorpus && plan.CorpusChangesSeen is { } seen && _corpusChangedAt.TryGetValue(plan.CorpusName, out var changed) && changed > seen)
            throw ServerException.Precondition($"Corpus '{plan.CorpusName}' was replaced or deleted while the job was being planned on its earlier text; start the job again.", ("corpus", plan.CorpusName));
    }

    private sealed class CorpusHold(JobQueue queue, string corpusName) : IDisposable
    {
        public void Dispose()
        {
            lock (queue._gate)
            {
                queue._corporaChanging.Remove(corpusName);
                queue.MarkCorpusChanged(corpusName); // a plan begun while it was held may have read the text it replaced
            }
        }
    }
}
