using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.TrainedModels;

namespace CharRnn.ModelServer.Jobs;

/// <summary>Whether a job may be queued (its model's name, the key's quotas, a delete or rename under way), asked by StartJob and CheckJob alike; and the hold a delete takes.</summary>
public sealed partial class JobQueue
{
    /// <summary>Whether <see cref="Enqueue(JobPlan, Caller)"/> would take the plan now (quotas, names, deletes): throws what it would, queues nothing.</summary>
    public void CheckAdmits(JobPlan plan, Caller caller)
    {
        var owned = ModelsOwnedBy(caller.Name, plan);
        lock (_gate) CheckAdmits(plan, caller.Name, id: null, checkQuota: true, owned);
    }

    private HashSet<string>? ModelsOwnedBy(string owner, JobPlan plan) => plan.ResumeCheckpoint != null ? null : ModelsOwnedBy(owner);

    // The models the key has on disk, read outside the lock (the device loop takes it every tick), and
    // those its jobs were making just before: a job that saves and ends meanwhile is in one or the other.
    private HashSet<string> ModelsOwnedBy(string owner)
    {
        List<string> making;
        lock (_gate) making = MakingFor(owner);
        var owned = database.ModelNamesOwnedBy(owner).Where(n => models.HoldsModelOf(n, owner)).ToHashSet();
        owned.UnionWith(making);
        return owned;
    }

    /// <summary>The models <paramref name="owner"/> owns as its max_models_per_key counts them: those its jobs and imports are making too.</summary>
    public int ModelsOf(string owner) => ModelsOwnedBy(owner).Count;

    /// <summary>Running and queued jobs of <paramref name="owner"/> (its max_jobs_per_key quota counts these).</summary>
    public int JobsOf(string owner)
    {
        lock (_gate) return JobsOfUnlocked(owner);
    }

    private int JobsOfUnlocked(string owner) => (_running?.Owner == owner ? 1 : 0) + _queue.Concat(_persisting).Count(j => j.Owner == owner);

    // Says how many of the queued jobs are the caller's: a key with none can only wait (StopJob finds none of
    // another key's), and one key's jobs filling a small queue is then plain to the others.
    private ServerException QueueFull(string owner)
    {
        var queued = _queue.Concat(_persisting).ToList();
        var mine = queued.Count(j => j.Owner == owner);
        // Without keys every caller is the admin 'local': it may stop any queued job.
        var stop = QuotaHolder.IsKeyless(owner) ? ", or stop one (StopJob)" : mine == 0 ? "" : ", or stop one of this key's (StopJob)";
        return ServerException.Exhausted(QuotaLimits.MaxQueuedJobs,
            $"The job queue is full ({queued.Count} queued, limit max_queued_jobs){QuotaHolder.Share(owner, mine)}; try again once a queued job has started{stop}.");
    }

    /// <summary>What Enqueue refuses a plan for, under the lock: quotas, a model being deleted or gone, a name a job or a model holds.</summary>
    private void CheckAdmits(JobPlan plan, string owner, string? id, bool checkQuota, HashSet<string>? owned)
    {
        // The key's own quota first: at it, a queued job starting frees nothing, so the full queue's "try again once a queued job has started" would not help.
        var mine = JobsOfUnlocked(owner);
        if (checkQuota && mine >= _limits.MaxJobsPerKey)
            throw ServerException.Exhausted(QuotaLimits.MaxJobsPerKey, $"{QuotaHolder.Subject(owner)} has {mine} running or queued job(s), its quota ({QuotaHolder.Limit(owner, $"max_jobs_per_key = {_limits.MaxJobsPerKey}")}); wait for one to end or stop one.");
        if (checkQuota && _queue.Count + _persisting.Count >= _limits.MaxQueuedJobs)
            throw QueueFull(owner);
        if (owned != null)
        {
            // With the models the key's jobs are making and have not saved yet.
            owned.UnionWith(MakingFor(owner));
            if (owned.Count >= _limits.MaxModelsPerKey)
                throw ServerException.Exhausted(QuotaLimits.MaxModelsPerKey, $"{QuotaHolder.Subject(owner)} owns {owned.Count} models, its quota ({QuotaHolder.Limit(owner, $"max_models_per_key = {_limits.MaxModelsPerKey}")}); delete models it no longer needs (DeleteModel), or resume one.");
        }
        ThrowIfUnstoredFailure(plan.ModelName, "training this model");
        CheckCorpusSteady(plan);
        if (_deleting.Contains(plan.ModelName))
            throw ServerException.Precondition($"Model '{plan.ModelName}' is being deleted; start the job again once DeleteModel has returned.", ("model", plan.ModelName));
        if (plan.InitFromModel is { } source && _deleting.Contains(source))
            throw ServerException.Precondition($"Model '{source}', the model the job starts from (init_from), is being deleted; the job cannot start from it.", ("model", source));
        ThrowIfRenaming(plan.ModelName, "start the job once RenameModel has returned");
        if (plan.InitFromModel is { } renamed) ThrowIfRenaming(renamed, "start the job from it (init_from) once RenameModel has returned, under its new name");
        // Deleted since it was planned: the job would meet no checkpoint when it starts.
        if (plan.InitFromCheckpoint != null && !File.Exists(plan.InitFromCheckpoint))
            throw ModelStore.NoModel(plan.InitFromModel!);
        // Deleted since it was planned (a delete waits for no job, and this one is not queued yet): resuming would make its folder again.
        if (plan.ResumeCheckpoint != null && !File.Exists(plan.ResumeCheckpoint))
            throw ModelStore.NoModel(plan.ModelName);
        // A new model's name is taken by a job for the name in any case (see ModelStore.TakenName).
        var comparison = plan.ResumeCheckpoint == null ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (ActiveFor(plan.ModelName, comparison) is { } other)
        {
            // A job waiting in the queue is not training yet: the message says which, as ListJobs would.
            var doing = other == _running ? "is already training" : "is queued to train";
            var message = other.ModelName != plan.ModelName
                ? $"A job {doing} a model named '{other.ModelName}', and names may not differ only in case; choose another model_name."
                : other.Owner == owner
                ? $"Job {other.Id} {doing} model '{plan.ModelName}'; watch it, stop it, or choose another model_name."
                : plan.ResumeCheckpoint != null
                ? $"Job {other.Id} of key '{other.Owner}' {(other == _running ? "is training" : "is queued to train")} model '{plan.ModelName}'; wait for it to end, or stop it (StopJob), then resume."
                : $"Another key's job {doing} a model named '{plan.ModelName}'; choose another model_name.";
            // A new model's name taken by a job is a name in use, as it will be once the job has saved.
            // The job's id where the message names it (never another key's new model's job).
            var namesJob = other.ModelName == plan.ModelName && (other.Owner == owner || plan.ResumeCheckpoint != null);
            (string, string)[] about = namesJob ? [("model", other.ModelName), ("job_id", other.Id)] : [("model", other.ModelName)];
            throw plan.ResumeCheckpoint == null ? ServerException.Exists(message, about) : ServerException.Precondition(message, about);
        }
        if (plan.ResumeCheckpoint == null && ImportingNamed(plan.ModelName) is { } importing)
            throw ServerException.Exists(importing == plan.ModelName
                ? $"An import (ImportModel) is making a model named '{importing}'; choose another model_name."
                : $"An import (ImportModel) is making a model named '{importing}', and names may not differ only in case; choose another model_name.", ("model", importing));
        // Planning checked this outside the lock: a job for the name may have ended (leaving its model) since.
        if (id == null && plan.ResumeCheckpoint == null && models.TakenName(plan.ModelName) is { } taken)
            throw ServerException.Exists(ModelNames.TakenMessage(plan.ModelName, taken, writable: null), ("model", taken)); // under the lock: no database read for whose it is
    }

    /// <summary>
    /// FAILED_PRECONDITION while <paramref name="modelName"/> (in any case) has a job that could not be recovered at the start and
    /// whose failure the database did not take either (under the lock): its row still names the model, so the next start
    /// recovers it there, and a job, or a rename to or from the name, meanwhile would have it train another model or find none.
    /// </summary>
    /// <param name="before">What to restart the server before, for the message ("training this model").</param>
    private void ThrowIfUnstoredFailure(string modelName, string before)
    {
        if (_unstoredFailures.TryGetValue(modelName, out var unstoredJob))
            throw ServerException.Precondition($"Model '{modelName}' has job {unstoredJob}, which could not be recovered at this server's start, and " +
                $"its failure could not be stored either (GetJob says why): the next start tries it again. Free disk space and restart the server before {before}.",
                ("model", modelName), ("job_id", unstoredJob));
    }

    /// <summary>
    /// Keeps jobs off a model while it is deleted (a resume queued meanwhile would write its
    /// checkpoints into a folder that no longer has an owner). FAILED_PRECONDITION when a job trains it,
    /// or starts from it (init_from).
    /// </summary>
    public IDisposable HoldForDelete(string modelName, Caller caller)
    {
        lock (_gate)
        {
            if (ActiveFor(modelName) != null)
                throw ServerException.Precondition($"Model '{modelName}' is being trained by a job; stop the job first (StopJob), then delete it.", ("model", modelName));
            ThrowIfStartedFrom(modelName, caller, "delete");
            ThrowIfRenaming(modelName, "delete it once RenameModel has returned");
            if (!_deleting.Add(modelName))
                throw ServerException.Precondition($"Model '{modelName}' is being deleted by another call; once that call has returned, ListModels says whether it is gone.", ("model", modelName));
        }
        return new DeleteHold(this, modelName);
    }

    /// <summary>
    /// FAILED_PRECONDITION when a queued or running job starts from <paramref name="modelName"/> (init_from), naming the job to
    /// a key that owns it (under the lock). A fine-tune reads its source's checkpoint when it starts (and again at a restart),
    /// as a job reads its corpus: held the same way against a <paramref name="change"/> (delete, rename).
    /// </summary>
    private void ThrowIfStartedFrom(string modelName, Caller caller, string change)
    {
        if (Active().FirstOrDefault(j => j.Plan?.InitFromModel == modelName) is { } fineTune)
            throw StartedFromRefusal(modelName, fineTune, caller, change);
    }

    /// <summary>The refusal of a <paramref name="change"/> to the model <paramref name="fineTune"/> starts from, naming the job's state as GetJob reports it.</summary>
    internal static ServerException StartedFromRefusal(string modelName, TrainingJob fineTune, Caller caller, string change) =>
        caller.Owns(fineTune.Owner)
            ? ServerException.Precondition($"Model '{modelName}' is the model job {fineTune.Id} (model '{fineTune.ModelName}', {fineTune.ReportedState}) starts from (init_from); wait for it to end or stop it (StopJob), then {change} the model.",
                ("model", modelName), ("job_id", fineTune.Id))
            : ServerException.Precondition($"Model '{modelName}' is the model another key's job ({fineTune.ReportedState}) starts from (init_from); wait for it to end, then {change} the model.",
                ("model", modelName));

    private sealed class DeleteHold(JobQueue queue, string modelName) : IDisposable
    {
        public void Dispose()
        {
            lock (queue._gate) queue._deleting.Remove(modelName);
        }
    }
}
