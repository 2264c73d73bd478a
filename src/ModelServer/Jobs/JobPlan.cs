using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;

namespace CharRnn.ModelServer.Jobs;

/// <summary>What a job will do, fully validated before it is queued: a new model (<see cref="NewModel"/>) or a resume (<see cref="Resume"/>).</summary>
public sealed record JobPlan(
    string ModelName,
    string Folder,
    Corpus Corpus,
    bool UploadedCorpus,
    // A new model:
    Architecture? Architecture,
    HyperParameters? HyperParameters,
    TrainingOptions? Options,
    // Resuming: the checkpoint and the options to continue with (the stored ones, as changed by the request).
    string? ResumeCheckpoint,
    TrainingOptions? ResumeOptions,
    string CorpusName,
    // Resuming: the checkpoint's architecture, as planning read it (listings show it before the job starts).
    string? ResumeArchitecture = null)
{
    /// <summary>
    /// <see cref="JobQueue.CorpusChangeCount"/> before planning read the corpus: a replacement or deletion of it since then
    /// means the plan holds text the corpus no longer has, and it is not queued. Null: not checked (a recovery at start).
    /// </summary>
    public long? CorpusChangesSeen { get; init; }

    /// <summary>A new model started from another's weights (StartJobRequest.init_from): the source's name and the checkpoint read; null otherwise.</summary>
    public string? InitFromModel { get; init; }
    public string? InitFromCheckpoint { get; init; }

    /// <summary>A resume's step, where its checkpoint stands (0 for a new model): the step its queued event carries.</summary>
    public long ResumesFromStep { get; init; }

    /// <summary>Its settings that train, but likely not as meant (<see cref="TrainingWarnings"/>): Job.warnings and Job.warning_parts.</summary>
    public IReadOnlyList<TrainingWarning> Warnings { get; init; } = [];

    public static JobPlan NewModel(string modelName, string folder, Corpus corpus, bool uploadedCorpus, string corpusName,
        Architecture architecture, HyperParameters hyperParameters, TrainingOptions options) =>
        new(modelName, folder, corpus, uploadedCorpus, architecture, hyperParameters, options, null, null, corpusName);

    public static JobPlan Resume(string modelName, string folder, Corpus corpus, bool uploadedCorpus, string corpusName,
        string checkpoint, TrainingOptions options, string? architecture) =>
        new(modelName, folder, corpus, uploadedCorpus, null, null, null, checkpoint, options, corpusName, architecture);
}
