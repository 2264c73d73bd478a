using System.Reflection;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Corpora;
using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Jobs;
using CharRnn.ModelServer.TrainedModels;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.Sessions;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>Architectures, models, corpora and server facts.</summary>
public sealed partial class CatalogService(ModelStore models, CorpusStore corpora, UploadedCorpora uploads, JobQueue jobs, SessionStore sessions, DeviceWorker worker,
    ExportSlots exports, ImportSlots imports, AuthInterceptor auth, CharRateLimiter chars, IOptions<ServerOptions> options, Errors.PathRedaction paths, ILogger<CatalogService> logger) : Api.Catalog.CatalogBase
{
    private readonly ServerLimits _limits = options.Value.Limits;
    private readonly Engine.Models.GenerationPrecision _generationPrecision = options.Value.GenerationPrecision; // what stateful-lstm models generate in

    public override Task<Api.ListArchitecturesResponse> ListArchitectures(Api.ListArchitecturesRequest request, ServerCallContext context)
    {
        var response = new Api.ListArchitecturesResponse { ScheduleHelp = LearningRateSchedule.Help };
        response.Architectures.AddRange(Architectures.All.Select(a => ProtoMapper.ToProto(a, _limits)));
        response.TrainingOptions.AddRange(TrainingOptions.Specs().Select(s => ProtoMapper.ToTrainingOptionProto(s, _limits)));
        response.TrainingOptions.AddRange(ProtoMapper.ServerTrainingOptionProtos());
        response.Optimizers.AddRange(TrainingOptions.Optimizers);
        return Task.FromResult(response);
    }

    public override Task<Api.ListModelsResponse> ListModels(Api.ListModelsRequest request, ServerCallContext context)
    {
        var response = new Api.ListModelsResponse();
        var caller = Caller.Of(context);
        // Read before the folders: a model whose first checkpoint is saved in between is then in both (and listed once),
        // not in neither (gone from this list after the folders were read, and listed only once saved).
        var unsaved = jobs.Unsaved(caller);
        response.Models.AddRange(models.List(caller).Select(m => Summary(m, caller)));
        // A model in its first epoch is listed too, as training (or queued), with what is known of it so far.
        foreach (var (job, plan) in unsaved.Where(u => response.Models.All(m => m.Name != u.Job.ModelName)))
            response.Models.Add(ProtoMapper.ToUnsavedSummary(job, plan, jobs.ActivityOf(job.ModelName).Queued));
        return Task.FromResult(response);
    }

    public override Task<Api.ModelDetails> GetModel(Api.GetModelRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        jobs.ThrowIfUnsaved(request.Name, caller);
        var listing = models.Get(ModelNames.Validate(request.Name, "name"), caller);
        var (training, queued) = jobs.ActivityOf(listing.Name);
        var details = ProtoMapper.ToDetails(listing, training, queued);
        details.Summary = Summary(listing, caller);
        return Task.FromResult(details);
    }

    public override async Task<Api.DeleteModelResponse> DeleteModel(Api.DeleteModelRequest request, ServerCallContext context)
    {
        var name = ModelNames.Validate(request.Name, "name");
        var caller = Caller.Of(context);
        EnsureCanChange(name, caller, "delete");
        using var hold = jobs.HoldForDelete(name, caller); // FAILED_PRECONDITION while a job trains it or starts from it; no job starts on it meanwhile
        await worker.Run(() => models.Invalidate(name), context.CancellationToken, caller.Name);
        models.Delete(name, caller.Name);
        // A session opened between the two loaded it again: that copy of a deleted model must not stay on the device.
        await worker.Run(() => models.Invalidate(name), CancellationToken.None, caller.Name);
        return new Api.DeleteModelResponse();
    }

    public override Task<Api.ModelSummary> ShareModel(Api.ShareModelRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var name = ModelNames.Validate(request.Name, "name");
        jobs.ThrowIfUnsaved(name, caller);
        models.Share(name, caller, request.Shared);
        // Who made which model readable by every key (or took that back) is the operator's to know.
        logger.LogInformation(request.Shared ? "Model {Model} (owner {Owner}) shared with every key by {Key}"
                : "Model {Model} (owner {Owner}) no longer shared, by {Key}; sessions already open on it keep working",
            name, models.Ownership(name)?.Owner, caller.Name);
        return Task.FromResult(Summary(models.Get(name, caller), caller));
    }

    private Api.ModelSummary Summary(Engine.Checkpoints.ModelListing listing, Caller caller)
    {
        var (training, queued) = jobs.ActivityOf(listing.Name);
        var summary = ProtoMapper.ToProto(listing, training, queued);
        summary.Error = paths.ForCaller(summary.Error, caller.Admin); // a damaged checkpoint's error names its file
        summary.Warning = paths.ForCaller(summary.Warning, caller.Admin); // an unreadable one's IO error may too
        if (models.Ownership(listing.Name) is { } owner)
        {
            summary.Owner = owner.Owner;
            summary.Shared = owner.Shared;
        }
        return summary;
    }

    public override Task<Api.ListCorporaResponse> ListCorpora(Api.ListCorporaRequest request, ServerCallContext context)
    {
        var response = new Api.ListCorporaResponse();
        var caller = Caller.Of(context);
        response.Corpora.AddRange(corpora.List(caller).Select(ProtoMapper.ToProto));
        foreach (var corpus in response.Corpora) // an unusable file's reason names it by its full path, as StartJob's error would
            corpus.Description = paths.ForCaller(corpus.Description, caller.Admin);
        return Task.FromResult(response);
    }

    public override Task<Api.Passage> GetPassage(Api.GetPassageRequest request, ServerCallContext context)
    {
        var length = request.Length == 0 ? 400 : request.Length;
        if (length is < 1 or > 5000)
            throw ServerException.Invalid($"length = {request.Length} is not allowed; ask for 1 to 5000 characters.");
        var (corpus, validFraction, lowercase) = string.IsNullOrEmpty(request.ModelName)
            ? (corpora.Get(request.CorpusName, Caller.Of(context)), new TrainingOptions().ValidFraction, false)
            : CorpusOf(request.ModelName, request.CorpusName, Caller.Of(context));
        var text = corpus.Text;
        if (text.Length == 0)
            throw ServerException.Precondition($"Corpus '{corpus.Name}' is empty: it has no passage to give.", ("corpus", corpus.Name));
        var heldOut = TrainingData.ValidationStartIndex(text, validFraction);
        var random = new Random((int)((request.HasSeed ? request.Seed : (ulong)Random.Shared.NextInt64()) % int.MaxValue));
        var latest = Math.Max(heldOut, text.Length - length);
        var start = random.Next(heldOut, latest + 1);
        var space = text.IndexOf(' ', start, Math.Min(40, text.Length - start)); // begin at a word
        if (space >= 0 && space + 1 + length <= text.Length) start = space + 1;
        if (char.IsLowSurrogate(text[Math.Min(start, text.Length - 1)])) start++;
        var end = Math.Min(text.Length, start + length);
        if (end < text.Length && char.IsHighSurrogate(text[end - 1])) end--;
        // The passage is typed against the model: a lowercased model reads and predicts only lowercase text.
        // Invariant lowercasing keeps every UTF-16 code unit in place, so the offset still points at it.
        var passage = lowercase ? text[start..end].ToLowerInvariant() : text[start..end];
        return Task.FromResult(new Api.Passage { CorpusName = corpus.Name, Text = passage, Offset = start });
    }

    /// <summary>The corpus a model was trained on, the share of its end the model held out, and whether it lowercases text.</summary>
    private (Engine.Text.Corpus Corpus, double ValidFraction, bool Lowercase) CorpusOf(string name, string corpusName, Caller caller)
    {
        ModelNames.Validate(name);
        jobs.ThrowIfUnsaved(name, caller);
        var model = models.Get(name, caller);
        if (model.Metadata is not { } meta)
            throw ServerException.Precondition($"Model '{name}' cannot be read: {paths.ForCaller(model.Error ?? "", caller.Admin)}", ("model", name)); // a damaged checkpoint's error names its file
        if (corpusName != "" && corpusName != meta.Corpus.Name)
            throw ServerException.Invalid($"corpus_name '{Echo.Of(corpusName)}' is not the corpus model '{name}' was trained on ('{meta.Corpus.Name}'); leave corpus_name empty with model_name.");
        // Sharing a model lets others list it and generate from it, not read what its owner uploaded:
        // server corpora are listed to every key, uploaded text only to the key that sent it.
        if (meta.Corpus.Name == CorpusStore.UploadedName && models.Ownership(name) is { } record && !caller.Owns(record.Owner))
            throw ServerException.PermissionDenied($"Model '{name}' was trained on uploaded text, which only the model's owner can read passages of; sharing a model does not share its corpus.", ("model", name));
        if (corpora.IsUploadHiddenFrom(meta.Corpus.Name, caller))
            throw ServerException.PermissionDenied($"Model '{name}' was trained on the uploaded corpus '{meta.Corpus.Name}', which only its owner can read passages of; sharing a model does not share its corpus.",
                ("model", name), ("corpus", meta.Corpus.Name));
        try { return (corpora.OfModel(name, model.Folder, meta), meta.Training.ValidFraction, meta.Vocabulary.Lowercase); }
        catch (ServerException e) when (e.Code == StatusCode.NotFound && !corpora.IsDeletedUpload(meta.Corpus.Name)) // that one says what to upload
        {
            throw ServerException.NotFound($"Model '{name}' was trained on corpus '{meta.Corpus.Name}', which this server does not have; add it as {meta.Corpus.Name}.txt to the server's corpora folder.",
                ErrorReasons.CorpusNotFound, ("corpus", meta.Corpus.Name));
        }
    }

    /// <summary>The product version and the commit it was built from, e.g. "0.9.0+39f6042…".</summary>
    public static readonly string Version =
        typeof(CatalogService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    public override Task<Api.ServerInfo> GetServerInfo(Api.GetServerInfoRequest request, ServerCallContext context)
    {
        var info = new Api.ServerInfo
        {
            Version = Version,
            Device = worker.Description,
            ActiveSessions = sessions.Count,
            RunningJobs = jobs.Running,
            QueuedJobs = jobs.Queued,
            Limits = ProtoMapper.ToProto(_limits),
            GenerationStepsPerSecond = worker.GenerationStepsPerSecond,
            GenerationPrecision = Engine.Models.GenerationPrecisions.Name(_generationPrecision),
        };
        info.KeyUsage.AddRange(UsageVisibleTo(Caller.Of(context)).Select(ProtoMapper.ToProto));
        return Task.FromResult(info);
    }

    /// <summary>An admin sees every key's use of its quotas; any other key its own (an anonymous caller none).</summary>
    private IEnumerable<KeyUsage> UsageVisibleTo(Caller caller)
    {
        IEnumerable<string> names = !auth.Enabled ? [Caller.Local.Name]
            : caller.Admin ? auth.Current().Keys.Keys.Select(k => k.Name).Distinct().Order(StringComparer.Ordinal)
            : caller.Name == Caller.Anonymous ? [] : [caller.Name];
        return names.Select(n => new KeyUsage(n, sessions.CountOf(n), jobs.JobsOf(n), chars.UsedLastMinute(n), jobs.ModelsOf(n), uploads.CountOwnedBy(n)));
    }
}
