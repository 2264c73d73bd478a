using CharRnn.Tui.Cli;

namespace CharRnn.Tui.Repl;

/// <summary>What an argument position completes to.</summary>
public enum ArgumentKind { None, Command, Architecture, Model, Job, Corpus }

/// <summary>
/// A REPL command: its usage line, a one-line summary, what its first argument is, the key=value
/// options it takes, how many plain words (null: any number, as a prime or a text) and which of them (from 1; 0: none)
/// is a file on this machine, which Tab completes.
/// </summary>
public sealed record CommandSpec(string Verb, string Usage, string Summary, ArgumentKind FirstArgument = ArgumentKind.None, string[]? Keys = null, int? Words = 0, int FileWord = 0);

/// <summary>Every REPL command, for help and completion. <see cref="CommandRunner"/> executes them.</summary>
public static class CommandCatalog
{

    public static readonly string[] SamplingKeys = ["t", "k", "p", "min_p", "seed"];
    public static readonly string[] TrainingKeys = ["recipe", "name", "corpus", "epochs", "lr", "wd", "schedule", "clip", "lower", "max_steps", "seed", "sample_chars", "optimizer", "min_freq", "val_fraction", "time_budget", "keep_cycles", "patience", "min_delta", "init_from"];

    /// <summary>Shorter or longer names the REPL also takes for training keys.</summary>
    public static readonly IReadOnlyDictionary<string, string> TrainingAliases =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["steps"] = "max_steps", ["budget"] = "time_budget", ["lowercase"] = "lower" };

    /// <summary>unknown=: what a session does with fed text holding characters its model cannot read.</summary>
    public static readonly string[] UnknownCharsValues = ["skip", "refuse"];

    /// <summary>The words Tab offers for a yes/no key (the REPL also takes yes/no, on/off and 1/0).</summary>
    public static readonly string[] YesNo = ["true", "false"];

    /// <summary>
    /// Values of a key that the REPL itself knows (the server's corpora, optimizers and yes/no options come with
    /// its names, <see cref="CompletionSource"/>): for Tab completion; none where any number or name goes.
    /// </summary>
    public static string[] KnownValues(string verb, string key) => (verb, key) switch
    {
        ("train", "recipe") => TrainingRecipe.All.Select(r => r.Name).ToArray(),
        ("upload", "replace") => YesNo,
        ("export", "force") => YesNo,
        ("export", "checkpoint") => ["best", "last"],
        ("import", "shared") => YesNo,
        ("set", "seed") => ["random"],
        ("use" or "set", "unknown") => UnknownCharsValues,
        ("feed", "show") => ["surprise"],
        _ => [],
    };

    public static readonly IReadOnlyList<CommandSpec> All =
    [
        new("help", "help [COMMAND]", "List commands, or explain one.", ArgumentKind.Command, Words: 1),
        new("archs", "archs", "List the architectures the server trains."),
        new("arch", "arch NAME", "Show an architecture's hyperparameters, defaults and ranges.", ArgumentKind.Architecture, Words: 1),
        new("models", "models", "List trained models with their validation loss."),
        new("info", "info [MODEL]", "Show a model: architecture, hyperparameters, training, vocabulary and its latest epochs (default: the model in use).", ArgumentKind.Model, Words: 1),
        new("corpora", "corpora", "List the corpora the server trains on: its own and those uploaded (with keys: yours; an admin: everyone's, with their owners)."),
        new("upload", "upload FILE [name=NAME] [replace=true]", "Store a UTF-8 text file on the server as a corpus to train on (train ... corpus=NAME); NAME defaults to the file's name without .txt, replace=true stores it over your upload of that name.",
            ArgumentKind.None, ["name", "replace"], Words: 1, FileWord: 1),
        new("delete-corpus", "delete-corpus NAME", "Delete a corpus you uploaded (an admin: anyone's); at the prompt, the same delete-corpus again within 2 minutes confirms it.", ArgumentKind.Corpus, Words: 1),
        new("train", "train ARCH|recipe=NAME|init_from=MODEL [name=NAME] [corpus=NAME] [n_hidden=512 ...] [epochs=N lr=X schedule=sgdr:cycle_len=1,cycle_mult=2 lower=true patience=N min_delta=X ...]",
            $"Start training a new model and watch it learn. recipe={TrainingRecipe.Lesson.Name} trains the lesson's LSTM as it does: train {TrainingRecipe.Lesson.Architecture} {TrainingRecipe.Lesson.Keys}; keys given beside it override it. patience=N stops once the validation loss has not improved for N epochs (0: off; SGDR restarts count, so give more than a cycle); min_delta=X (with patience) counts only a drop of more than X nats/char as an improvement. init_from=MODEL starts a new model from MODEL's weights (fine-tuning on corpus=): its architecture, hyperparameters and vocabulary, a fresh optimizer and history.",
            ArgumentKind.Architecture, TrainingKeys, Words: 1),
        new("resume", "resume MODEL [epochs=N] [max_steps=N] [lr=X] [schedule=S] [patience=N] [min_delta=X]", "Continue training a model where it stopped (its patience and min_delta kept, the count going on, unless patience= or min_delta= changes them).", ArgumentKind.Model,
            ["epochs", "max_steps", "lr", "wd", "schedule", "clip", "sample_chars", "time_budget", "patience", "min_delta"], Words: 1),
        new("jobs", "jobs", "List training jobs: running, queued and ended."),
        new("attach", "attach JOB|MODEL [from=STEP]", "Watch a training job (by id, the start of one, j-b78f, or its model's name) from a step on (your own; with an admin key, anyone's).", ArgumentKind.Job, ["from"], Words: 1),
        new("detach", "detach", "Stop watching the current job (it keeps training)."),
        new("stop", "stop [JOB|MODEL]", "Stop a job (by id, the start of one, or its model's name); a running job saves a checkpoint first.", ArgumentKind.Job, Words: 1),
        new("use", "use MODEL [t=0.8] [k=N] [p=X] [min_p=X] [seed=N] [unknown=skip|refuse]", "Open a generation session on a model.", ArgumentKind.Model, [.. SamplingKeys, "unknown"], Words: 1),
        new("gen", "gen [N] [\"PRIME\"] [t=0.8] [k=N] [p=X] [min_p=X] [seed=N] [stop=TEXT]", "Generate N chars (default 200), continuing the session; N may also follow the prime. stop=TEXT ends the text once it ends with TEXT (\\n a line break); stop= with nothing stops nowhere, as charrnn generate --stop '' does. t=, k=, p=, min_p=, seed= set the session's sampling as set does.",
            ArgumentKind.None, [.. SamplingKeys, "stop"], Words: null),
        new("feed", "feed \"TEXT\" [show=surprise]", "Advance the session over text without generating; says how well the model predicted it (nats and bits per char, perplexity, top-1). show=surprise then prints the text with ^ under each char the model gave under 5% and lists the 5 most surprising.",
            ArgumentKind.None, ["show"], Words: null),
        new("fork", "fork", "Continue in a copy of the session's state and random sequence (the original is kept; set seed=N for other text)."),
        new("back", "back", "Close the fork and return to the session it was made from."),
        new("reset", "reset", "Reset the session to a fresh state."),
        new("set", "set [t=X] [k=N] [p=X] [min_p=X] [seed=N|random] [unknown=skip|refuse]",
            "Change sampling: temperature, top-k, top-p, min-p, seed (kept for the models you use next; seed=random lets each draw its own). A key with nothing after its = goes back to its default: t= is t=0.8, k=, p= and min_p= keep all chars, seed= is seed=random, unknown= is unknown=refuse.",
            ArgumentKind.None, [.. SamplingKeys, "unknown"]),
        new("compare", "compare [MODEL] [N] [\"PRIME\"] [t=X k=N p=X min_p=X seed=N]", "Generate side by side: the current model vs another model or other sampling.", ArgumentKind.Model, SamplingKeys, Words: null),
        new("delete", "delete MODEL", "Delete a model from the server (at the prompt, the same delete again within 2 minutes confirms it; --exec deletes at once).", ArgumentKind.Model, Words: 1),
        new("rename", "rename MODEL NEW_NAME", "Give a model (yours; an admin: any) a new name: it lists, generates, resumes and exports under NEW_NAME only, its owner and sharing kept; a session open on it goes on.", ArgumentKind.Model, Words: 2),
        new("share", "share MODEL [off]", "Let every key on the server list a model and generate from it, read-only (off: yours alone again).", ArgumentKind.Model, Words: 2),
        new("export", "export MODEL FILE.safetensors [checkpoint=best|last|cycle-N] [force=true]",
            "Download a model's weights as a safetensors file for PyTorch (what charrnn export writes; checked against the server's SHA-256, written whole or not at all); checkpoint= picks one (default best: the one generation uses), force=true replaces FILE.",
            ArgumentKind.Model, ["checkpoint", "force"], Words: 2, FileWord: 2),
        new("import", "import FILE.safetensors [name=NAME] [shared=true]",
            "Send a safetensors file (from export, charrnn export, or saved in PyTorch with its metadata) to the server as a new model of yours; NAME defaults to the file's name without .safetensors, shared=true lets every key use it. It generates and exports like any model, but cannot be resumed.",
            ArgumentKind.None, ["name", "shared"], Words: 1, FileWord: 1),
        new("sessions", "sessions [close ID]", "List the open sessions your key may use (an admin: every key's), with owner, chars, idle time and time left before expiry; close ID closes one.", Words: 2),
        new("status", "status", "Server, device, sessions and jobs, what a key may hold here and what it holds (an admin: every key)."),
        new("quit", "quit", "Leave charrnn (with --server, jobs keep training there; an embedded server's running job checkpoints and resumes at the next start)."),
    ];

    /// <summary>
    /// The column `help` starts each command's summary at, after its longest verb (delete-corpus) and a space, so every summary
    /// starts in one column: the log indents a wrapped summary's rows to it.
    /// </summary>
    public static int SummaryColumn { get; } = All.Max(c => c.Verb.Length) + 2;

    /// <summary>Other names some commands answer to.</summary>
    public static readonly IReadOnlyDictionary<string, string> VerbAliases = new Dictionary<string, string> { ["?"] = "help", ["generate"] = "gen", ["exit"] = "quit" };

    public static CommandSpec? Find(string verb) => All.FirstOrDefault(c => c.Verb == (VerbAliases.TryGetValue(verb, out var real) ? real : verb));
}
