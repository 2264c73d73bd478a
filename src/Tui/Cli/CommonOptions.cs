using System.CommandLine;
using CharRnn.Engine.Runtime;

namespace CharRnn.Tui.Cli;

/// <summary>Options every Torch-using verb shares: where to compute and with how many threads.</summary>
public static class CommonOptions
{
    public static Option<string> Device() => new("--device")
    {
        Description = $"Where tensors live: {TorchRuntime.DeviceHelp}.",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<int> Threads()
    {
        var option = new Option<int>("--threads")
        {
            Description = $"libtorch CPU threads, 0 to {TorchRuntime.MaxThreads} (0: libtorch's default, one per core it sees).",
            DefaultValueFactory = _ => 0,
        }.Allowing(0, TorchRuntime.MaxThreads, $"0 (libtorch's default: one per core) to {TorchRuntime.MaxThreads}");
        return option;
    }

    /// <summary>--corpus for the verbs that train (train, lr-find, demo), which all find it with CorpusResolver: a file or a known corpus name.</summary>
    public static Option<string?> Corpus() => new Option<string?>("--corpus") { Description = "UTF-8 text file, or a known corpus name (default: nietzsche)." }
        .NotEmpty("a text file or a known corpus name, or leave it out for nietzsche");

    /// <summary>
    /// --generation-precision, for the servers (serve's and the embedded one): what stateful-lstm models generate in.
    /// Its value is read with <see cref="Engine.Models.GenerationPrecisions.Parse"/>, which names what is allowed.
    /// </summary>
    public static Option<string> GenerationPrecision() => new("--generation-precision")
    {
        Description = $"What stateful-lstm models generate in: {Engine.Models.GenerationPrecisions.Allowed}. Other models generate in float32.",
        DefaultValueFactory = _ => "float32",
    };

    /// <summary>
    /// An unknown flag (--bogus) in an argument's place is refused as a flag, not taken for the
    /// argument's value (which an optional argument would otherwise do, as would a required one left out).
    /// </summary>
    public static Argument<T> RefusingFlags<T>(this Argument<T> argument)
    {
        argument.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && result.Tokens[0].Value is ['-', _, ..] value)
                result.AddError($"Unrecognized command or argument '{value}'.");
        });
        return argument;
    }

    public static Option<string> ModelsDir() => new Option<string>("--models")
    {
        Description = "Folder that holds model folders.",
        DefaultValueFactory = _ => "models",
    }.NotEmpty("the folder that holds model folders (default: models)");

    /// <summary>
    /// --corpora: a folder that exists, or the option left out (no folder's corpora). One that does not
    /// exist is refused, not served as an empty folder: a typo in it must not look like a folder with no *.txt.
    /// </summary>
    public static Option<string?> CorporaDir(string description)
    {
        var option = new Option<string?>("--corpora") { Description = description }.NotEmpty("a folder of *.txt files");
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0 || result.Tokens[^1].Value is not { } path || string.IsNullOrWhiteSpace(path)) return;
            if (File.Exists(path))
                result.AddError($"--corpora '{path}' is a file; give the folder that holds the *.txt corpora.");
            else if (!Directory.Exists(path))
                result.AddError($"--corpora '{path}' does not exist; give a folder of *.txt files (or leave --corpora out for the known corpora only).");
        });
        return option;
    }

    /// <summary>An empty path ('' from an unset variable) is refused, not read as the current folder, the default, or .NET's "path is empty".</summary>
    public static Option<T> NotEmpty<T>(this Option<T> option, string what)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && string.IsNullOrWhiteSpace(result.Tokens[^1].Value))
                result.AddError($"{option.Name} is empty; give {what}.");
        });
        return option;
    }

    /// <inheritdoc cref="NotEmpty{T}(Option{T}, string)"/>
    public static Argument<T> NotEmpty<T>(this Argument<T> argument, string what)
    {
        argument.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && string.IsNullOrWhiteSpace(result.Tokens[0].Value))
                result.AddError($"The {argument.Name} is empty; give {what}.");
        });
        return argument;
    }
}
