using System.Globalization;
using CharRnn.Engine.Text;
using CharRnn.Protos.V1;
using CharRnn.Tui.Cli;
using CharRnn.Tui.Client;

namespace CharRnn.Tui.Repl;

/// <summary>The REPL's commands that read or change the server's catalogue: help, archs, arch, models, info, corpora, status, delete, share, export.</summary>
public sealed partial class CommandRunner
{
    private Task Help(Command c)
    {
        if (c.Arg(0) is { } verb)
        {
            var spec = CommandCatalog.Find(verb.ToLowerInvariant()) ?? throw new CommandException($"No command '{verb}'; help alone lists them.{ClosestName.Suggestion(verb, CommandCatalog.All.Select(s => s.Verb))}");
            output.Line($"{spec.Usage}\n  {spec.Summary}");
            return Task.CompletedTask;
        }
        foreach (var spec in CommandCatalog.All) output.Line($"{spec.Verb.PadRight(CommandCatalog.SummaryColumn - 1)} {spec.Summary}");
        output.Line("Commands run one after another when separated by ';'. Text with spaces goes in quotes. help COMMAND shows a command's form and keys. Tab completes.");
        return Task.CompletedTask;
    }

    private async Task<ListArchitecturesResponse> ArchitectureList(CancellationToken ct) =>
        _architectures ??= await client.Catalog.ListArchitecturesAsync(new ListArchitecturesRequest(), cancellationToken: ct);

    private async Task Architectures(CancellationToken ct)
    {
        foreach (var a in (await ArchitectureList(ct)).Architectures)
            output.Line($"{a.Name,-18} {a.Summary}{LessonClassText.Note(a)}");
    }

    private async Task Architecture(Command c, CancellationToken ct)
    {
        var name = c.Arg(0) ?? throw new CommandException("Usage: arch NAME (archs lists them).");
        var list = await ArchitectureList(ct);
        var a = list.Architectures.FirstOrDefault(x => x.Name == name)
            ?? throw new CommandException(LessonClassText.Unknown(name, list.Architectures));
        output.Line($"{a.Name}: {a.Summary}{LessonClassText.Note(a)}");
        output.ArchitectureShown(a.Name);
        var rows = new List<(string Name, string Default, string Range, string Doc)>();
        foreach (var p in a.Hyperparameters.Concat(list.TrainingOptions))
        {
            // Options the REPL takes in its own words (a duration), or not at all (how often a watch hears of progress).
            if (p.Name == "progress_interval_seconds") continue;
            // The wire's doc speaks of seconds, where 0 means none; the REPL takes a duration above 0, or no key at all.
            if (p.Name == "time_budget_seconds")
            {
                rows.Add(("time_budget", "none", "a duration: 30m, 2h", $"Stop after this much training time in this run (above 0, at most {Durations.MaxDays} days; leave it out for no limit)."));
                continue;
            }
            // The server lists lr and wd once for every architecture; the architecture's own defaults are what a run uses.
            var defaultValue = p.Name switch { "lr" => a.DefaultLearningRate, "wd" => a.DefaultWeightDecay, _ => p.DefaultValue };
            rows.Add((p.Name, SpecText.Format(p, defaultValue), SpecText.Range(p) + ServerLimitNote(p), p.Doc));
        }
        // Each column as wide as its widest value: a capped range's " (server limit)" ran into its doc, a column late.
        var (names, defaults, ranges) = (rows.Max(r => r.Name.Length), rows.Max(r => r.Default.Length), rows.Max(r => r.Range.Length));
        foreach (var r in rows)
            output.Line($"  {r.Name.PadRight(Math.Max(names, 14))} default {r.Default.PadRight(Math.Max(defaults, 8))} {r.Range.PadRight(ranges)} {r.Doc}");
        output.Line($"  {"schedule",-14} {list.ScheduleHelp}");
    }

    /// <summary>
    /// " (server limit)" where the server says it caps a hyperparameter or option below what its engine (and so the
    /// command line's train) takes: otherwise the prompt's tighter range reads as a contradiction.
    /// </summary>
    private static string ServerLimitNote(HyperParameterSpec spec) => spec.CappedByServer ? " (server limit)" : "";

    private async Task Models(CancellationToken ct)
    {
        var models = (await client.Catalog.ListModelsAsync(new ListModelsRequest(), cancellationToken: ct)).Models;
        if (models.Count == 0) { output.Line("No models yet. Train one: train stateful-lstm epochs=1 lower=true"); return; }
        // On a server with keys, whose each model is and whether it is shared (share MODEL).
        var owners = models.Any(HasTeamOwner);
        var name = Math.Max(22, models.Max(m => m.Name.Length)); // room for a long name (stateful-gru-cell-12, or one with the time in it when the numbered ones were taken)
        output.Line($"{"NAME".PadRight(name)} {"ARCH",-18} {"PARAMS",10} {"EPOCHS",6} {"BEST VAL",9} {"CORPUS",-10}{(owners ? " OWNER" : "")}");
        foreach (var m in models)
        {
            if (m.Error.Length > 0) { output.Line($"{m.Name.PadRight(name)} unreadable: {m.Error}"); continue; }
            var loss = ModelLoss.Of(m)?.ToString("F4", CultureInfo.InvariantCulture) ?? "-";
            var owner = owners ? $" {(m.Owner.Length > 0 ? m.Owner : "-")}{(m.Shared ? " (shared)" : "")}" : "";
            output.Line($"{m.Name.PadRight(name)} {m.Architecture,-18} {m.ParameterCount,10:N0} {m.EpochsTrained,6} {loss,9} {m.CorpusName,-10}{owner}{(m.Training ? " (training)" : m.Queued ? " (queued)" : "")}");
            if (m.Warning.Length > 0 && interactive) output.Line($"{"".PadRight(name)} warning: {m.Warning}");
        }
        // Under --exec, after the table and on stderr, as charrnn models says them: stdout stays the header and one row a model.
        if (!interactive)
            foreach (var m in models.Where(m => m.Warning.Length > 0)) output.Warning($"model '{m.Name}': {m.Warning}");
    }

    private const int InfoEpochs = 5;

    private async Task Info(Command c, CancellationToken ct)
    {
        var name = c.Arg(0) ?? Session?.ModelName ?? throw new CommandException("Usage: info MODEL (models lists them), or use MODEL first.");
        var details = await client.Catalog.GetModelAsync(new GetModelRequest { Name = name }, cancellationToken: ct);
        var m = details.Summary;
        output.Line($"{m.Name} · {m.Architecture} · {m.ParameterCount:N0} parameters · corpus {m.CorpusName}{(m.Lowercase ? " (lowercased)" : "")}" +
                    $"{(HasTeamOwner(m) ? $" · owner {m.Owner}{(m.Shared ? " (shared)" : "")}" : "")}{(m.Training ? " · training now" : m.Queued ? " · queued: its job has not begun (jobs)" : "")}");
        var specs = (await ArchitectureList(ct)).Architectures.FirstOrDefault(a => a.Name == m.Architecture)?.Hyperparameters;
        output.Line("  hyperparameters: " + string.Join(" · ", details.Hyperparameters.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h =>
            $"{h.Key} {(specs?.FirstOrDefault(s => s.Name == h.Key) is { } spec ? SpecText.Format(spec, h.Value) : SpecText.Real(h.Value))}")));
        var o = details.TrainingOptions;
        var options = new List<string> { TrainedSoFarText.Of(m.EpochsTrained, m.StepsTrained, details.History.Count > 0 ? (details.History[^1].Epoch, details.History[^1].Step) : null) };
        if (o.HasOptimizer) options.Add($"optimizer {o.Optimizer}");
        if (o.LearningRate.Count > 0) options.Add($"lr {string.Join(",", o.LearningRate.Select(SpecText.Real))}");
        if (o.HasSchedule && o.Schedule.Length > 0) options.Add($"schedule {o.Schedule}");
        if (o.WeightDecay.Any(w => w != 0)) options.Add($"wd {string.Join(",", o.WeightDecay.Select(SpecText.Real))}");
        if (o.HasClip && o.Clip > 0) options.Add($"clip {SpecText.Real(o.Clip)}");
        if (o.HasPatience && o.Patience > 0) options.Add($"patience {o.Patience}");
        if (o.HasMinDelta && o.MinDelta > 0) options.Add($"min_delta {SpecText.Real(o.MinDelta)}");
        if (o.HasMinFreq) options.Add($"min_freq {o.MinFreq}");
        if (o.HasValidFraction) options.Add($"val_fraction {SpecText.Real(o.ValidFraction)}");
        output.Line("  training: " + string.Join(" · ", options));
        var best = m.HasBestValidLoss ? $"best {m.BestValidLoss.ToString("F4", CultureInfo.InvariantCulture)}" : "not validated yet";
        var last = m.HasLastValidLoss ? $" · last {m.LastValidLoss.ToString("F4", CultureInfo.InvariantCulture)}" : "";
        output.Line($"  validation loss (nats/char): {best}{last}; generation uses {details.Checkpoint}");
        if (details.InitFrom is { } from) // in charrnn models NAME's words
            output.Line($"  {new Engine.Checkpoints.InitFromRecord(from.Model, from.Checkpoint, from.Epoch, from.HasValidLoss ? from.ValidLoss : null).Describe()}");
        if (m.Warning.Length > 0) output.Line($"  warning: {m.Warning}");
        // Counted as listed: the padding symbol is in the size but not in the list ("79 symbols" then 78 read as one lost).
        output.Line($"  vocabulary: {m.VocabularySize - 1} characters + padding: {VisibleText.Vocabulary(details.Vocabulary)}");
        if (details.History.Count == 0) return;
        output.Line(EpochTable.Header);
        foreach (var e in details.History.TakeLast(InfoEpochs))
            output.Line(EpochTable.Row(e.Epoch, e.Step, e.TrainLoss, e.ValidLoss, e.ValidAccuracy, e.LearningRate, e.ElapsedSeconds));
        if (details.History.LastOrDefault(e => e.Sample.Length > 0) is { } sampled)
            output.Line($"  sample after epoch {sampled.Epoch}: {sampled.Sample.Replace("\n", " ", StringComparison.Ordinal)}");
    }

    /// <summary>
    /// A model a key made on a server with keys. A server without them (the embedded one) records
    /// every model as its one user's, "local": no owner worth a column or a word.
    /// </summary>
    private static bool HasTeamOwner(ModelSummary m) => (m.Owner.Length > 0 && m.Owner != CharRnnClient.OpenServerOwner) || m.Shared;

    private async Task Status(CancellationToken ct)
    {
        var info = await client.Catalog.GetServerInfoAsync(new GetServerInfoRequest(), cancellationToken: ct);
        output.Line($"server {client.Address} · {info.Device}{GenerationPrecisionNote(info.GenerationPrecision)} · {info.ActiveSessions} session(s) · {info.RunningJobs} running, {info.QueuedJobs} queued job(s)");
        if (info.Limits is { } l) // the server's own caps, shared by every key, then what a key may hold here: the quotas a refusal names
        {
            output.Line($"limits on the server: {l.MaxSessions:N0} sessions · {l.MaxQueuedJobs:N0} queued jobs · {l.MaxExports:N0} model exports (downloads) at once" +
                        (l.MaxImports > 0 // 0: a server from before ImportModel's cap, which does not say
                            ? $" · {l.MaxImports:N0} model imports (uploads of up to {Engine.Training.TrainingFootprint.Format(l.MaxImportBytes)}) at once" : "") +
                        $" · {JobTimeCapText(l.MaxJobSeconds)}");
            output.Line($"limits per key: {l.MaxSessionsPerKey:N0} sessions · {l.MaxJobsPerKey:N0} running or queued jobs · {l.MaxModelsPerKey:N0} models · " +
                        $"{l.MaxCorporaPerKey:N0} uploaded corpora of up to {Engine.Training.TrainingFootprint.Format(l.MaxCorpusBytes)} each · {l.MaxExportsPerKey:N0} model exports (downloads) at once · " +
                        (l.MaxImportsPerKey > 0 ? $"{l.MaxImportsPerKey:N0} model import(s) at once · " : "") + // 0: a server from before the per-key cap
                        $"{l.MaxCharsPerMinutePerKey:N0} generated or fed chars a minute; a job may need up to {Engine.Training.TrainingFootprint.Format(l.MaxJobMemoryBytes)} of memory");
        }
        foreach (var u in info.KeyUsage) // every key's for an admin, else the caller's own: used of the quotas above
            output.Line($"key {u.Key}: {u.Sessions:N0}/{info.Limits?.MaxSessionsPerKey:N0} sessions · {u.Jobs:N0}/{info.Limits?.MaxJobsPerKey:N0} jobs · " +
                        $"{u.Models:N0}/{info.Limits?.MaxModelsPerKey:N0} models · {u.Corpora:N0}/{info.Limits?.MaxCorporaPerKey:N0} uploaded corpora · " +
                        $"{u.CharsLastMinute:N0}/{info.Limits?.MaxCharsPerMinutePerKey:N0} chars in the last minute");
        if (Session != null) output.Line($"session {Session.Id} on {Session.ModelName}{(Session.GenerationPrecision != "" ? $" ({Session.GenerationPrecision} generation)" : "")} · {Describe(_sampling)}");
        if (WatchedJob != null) output.Line($"watching job {WatchedJob}");
    }


    /// <summary>
    /// The server's cap on one job's training time in a run (max_job_seconds, `serve --max-job-hours`), which a team sharing it
    /// should know before a long job is cut short; 0 is no cap.
    /// </summary>
    internal static string JobTimeCapText(double seconds) => seconds > 0
        ? $"a job trains at most {TimeSpan.FromSeconds(seconds).TotalHours.ToString("0.##", CultureInfo.InvariantCulture)} h a run"
        : "no cap on a job's training time";

    /// <summary>
    /// What ServerInfo.generation_precision says, in status's first line: a bf16 server's other architectures generate in
    /// float32 (the session's line says what its model does). Nothing from a server older than the field.
    /// </summary>
    private static string GenerationPrecisionNote(string precision) => precision switch
    {
        "" => "",
        "bf16" => $" · {string.Join(", ", Engine.Models.GenerationPrecisions.Bf16Architectures)} generates in bf16, others in float32",
        _ => $" · generation in {precision}",
    };

    /// <summary>The model a `delete` asked about, and when: at the prompt, the same `delete` again within a while confirms it.</summary>
    private (string Model, DateTime At)? _deleteAsked;

    private static readonly TimeSpan DeleteConfirmWithin = TimeSpan.FromMinutes(2);

    /// <summary>"2 minutes": a confirmation typed later only asks again, which the question says (help's summaries too).</summary>
    private static string ConfirmWindow => $"{DeleteConfirmWithin.TotalMinutes:0} minutes";

    private async Task Delete(Command c, CancellationToken ct)
    {
        var model = c.Arg(0) ?? throw new CommandException("Usage: delete MODEL");
        // At the prompt a slip (a Tab-completed name, a line from history) must not lose hours of training: asked once.
        // A script (--exec) means what it says.
        if (interactive && !(_deleteAsked is var (asked, at) && asked == model && DateTime.UtcNow - at < DeleteConfirmWithin))
        {
            var summary = (await client.Catalog.GetModelAsync(new GetModelRequest { Name = model }, cancellationToken: ct)).Summary; // a name that is not there says so now
            if (summary.Training || summary.Queued) // the server would refuse the confirmed delete: say so before asking
                throw new CommandException($"Model '{model}' {(summary.Queued ? "has a queued job" : "is being trained by a job")}; stop the job first (stop {model}), then delete it.");
            _deleteAsked = (model, DateTime.UtcNow);
            var loss = ModelLoss.Of(summary) is { } l ? $", val {l.ToString("F4", CultureInfo.InvariantCulture)}" : "";
            output.Line($"delete {model} removes it and its checkpoints for good ({summary.EpochsTrained} epoch(s){loss}): type delete {model} again within {ConfirmWindow} to confirm.");
            return;
        }
        _deleteAsked = null;
        await client.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = model }, cancellationToken: ct);
        if (Session?.ModelName == model) // its sessions (forks are of the same model) would generate on from a model no longer listed
        {
            await CloseAll(CancellationToken.None);
            output.SessionChanged(null);
            output.Line($"deleted {model}, and closed the session on it: use MODEL to pick another");
            return;
        }
        output.Line($"deleted {model}");
    }

    private async Task Rename(Command c, CancellationToken ct)
    {
        var model = c.Arg(0) ?? throw new CommandException("Usage: rename MODEL NEW_NAME");
        var newName = c.Arg(1) ?? throw new CommandException($"rename {model} needs the name it should have, e.g. rename {model} {model}-v2. Usage: rename MODEL NEW_NAME");
        var summary = await client.Catalog.RenameModelAsync(new RenameModelRequest { Name = model, NewName = newName }, cancellationToken: ct);
        if (Session?.ModelName != model)
        {
            output.Line($"renamed {model} to {summary.Name}");
            return;
        }
        // The server's sessions keep the weights they loaded; here they go on under the name the model has now (reset and set reopen by it).
        foreach (var session in _forks.Append(Session).Where(s => s.ModelName == model)) session.ModelName = summary.Name;
        output.SessionChanged(Session, "renamed");
        output.Line($"renamed {model} to {summary.Name}; the session on it goes on under the new name");
    }

    private async Task Share(Command c, CancellationToken ct)
    {
        var model = c.Arg(0) ?? throw new CommandException("Usage: share MODEL [off]");
        var shared = c.Arg(1) switch
        {
            null => true,
            var word when word.Equals("off", StringComparison.OrdinalIgnoreCase) => false,
            var word => throw new CommandException($"'{word}' is not understood: share {model} shares it, share {model} off takes the share back.{ClosestName.Suggestion(word, ["off"])}"),
        };
        var summary = await client.Catalog.ShareModelAsync(new ShareModelRequest { Name = model, Shared = shared }, cancellationToken: ct);
        output.Line(summary.Shared
            ? $"{model} is shared: every key may list it and generate from it, read-only (share {model} off takes it back)"
            : $"{model} is no longer shared: only its owner ('{summary.Owner}') and admin keys can use it");
    }

    private async Task Export(Command c, CancellationToken ct)
    {
        var (model, file, checkpoint) = ExportOf(c);
        ModelDownload saved;
        try { saved = await ModelDownload.SaveAsync(client.Catalog, model, checkpoint, file, ct); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !ct.IsCancellationRequested)
        {
            throw new CommandException($"export {model}: {e.Message}"); // a short or damaged download, or a file that cannot be written: FILE is as it was
        }
        output.Line($"exported {model} ({saved.Checkpoint}) to {Path.GetFullPath(saved.Path)}: {saved.Bytes:N0} bytes, SHA-256 {saved.Sha256} (checked); " +
                    "load it in PyTorch with examples/python/load_in_pytorch.py");
    }

    /// <summary>An export's model, file and checkpoint, checked before anything is asked: --exec checks them before it runs the line.</summary>
    private static (string Model, string File, string Checkpoint) ExportOf(Command c)
    {
        const string extension = Engine.Export.SafetensorsFile.Extension;
        var usage = "Usage: " + CommandCatalog.Find("export")!.Usage;
        var model = c.Arg(0) ?? throw new CommandException(usage);
        var file = c.Arg(1) ?? throw new CommandException($"export {model} needs the file to write, e.g. export {model} {model}{extension}. {usage}");
        if (Directory.Exists(file))
            throw new CommandException($"{file} is a folder; give the file to write, e.g. {Path.Combine(file, model + extension)}.");
        if (!file.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            throw new CommandException($"{file} does not end in {extension}; give a file name that does (the format is safetensors).");
        var force = c.Option("force") is { } f && OptionValues.Bool("force", f) != 0;
        if (File.Exists(Engine.Storage.AtomicFile.ThroughLink(file)) && !force) // a link whose target is not there yet is a new file, as for cp
            throw new CommandException($"{file} exists; add force=true to replace it, or give another file name.");
        return (model, file, c.Option("checkpoint") ?? "");
    }
}
