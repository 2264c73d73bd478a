using System.Text.Json;
using CharRnn.Engine.Checkpoints;

namespace CharRnn.Tui.Tests;

/// <summary>charrnn import: a file charrnn export wrote back into a model folder.</summary>
public partial class CommandLineTests
{
    /// <summary>TrainedOneEpoch's model exported to ROOT/m.safetensors.</summary>
    private static (string Folder, string Corpus, string File) ExportedOneEpoch(string root)
    {
        var (folder, corpus) = TrainedOneEpoch(root);
        var file = Path.Combine(root, "m.safetensors");
        Printed(["export", folder, "--out", file, "--threads", "1"]);
        return (folder, corpus, file);
    }

    /// <summary>
    /// A models folder a running server keeps (it holds charrnn.lock) is refused to an import outside it, saying to import through that
    /// server, as train's refusal says to train through it; it said "train through it" to an import.
    /// </summary>
    [Fact]
    public void Import_into_a_folder_a_running_server_keeps_is_refused_saying_to_import_through_it() => InTempFolder(root =>
    {
        var (_, _, file) = ExportedOneEpoch(root);
        var models = Path.Combine(root, "served");
        Directory.CreateDirectory(models);
        var lockPath = Path.Combine(models, "charrnn.lock");
        File.WriteAllText(lockPath, "");
        // Refused before anything on stdout, as train is: a line there would read as if it had started importing.
        var (previousOut, printed) = (Console.Out, new StringWriter());
        using (new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            Console.SetOut(printed);
            try
            {
                AssertUserError(["import", file, "--models", models, "--name", "back", "--threads", "1"],
                    $"charrnn: A charrnn server is using the models folder {models} (it holds {lockPath}); import through it " +
                    $"(charrnn --server HOST:PORT --exec \"import {file} name=back\"), or stop it first.");
            }
            finally { Console.SetOut(previousOut); }
        }
        Assert.Equal("", printed.ToString());
        Assert.False(Directory.Exists(Path.Combine(models, "back")));
    });

    [Fact]
    public void Import_makes_a_model_that_generates_the_same_text_and_scores_the_same_loss_as_the_exported_one() => InTempFolder(root =>
    {
        var (folder, corpus, file) = ExportedOneEpoch(root);
        var models = Path.Combine(root, "models");
        var said = Printed(["import", file, "--models", models, "--name", "back", "--threads", "1"]);
        var imported = Path.Combine(models, "back");
        var exportedLoss = CheckpointFile.ReadMetadata(Path.Combine(folder, "best.ckpt")).ValidationOfWeights!.Loss;
        Assert.StartsWith($"Imported stateful-gru (7 tensors, ", said);
        Assert.Contains($"from {file} into {Path.Combine(imported, "last.ckpt")}. The export recorded epoch 1, validation loss " +
                        $"{exportedLoss.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}: the source model's, not a validation of these weights.", said);
        Assert.Equal(["last.ckpt"], Directory.GetFiles(imported).Select(Path.GetFileName)); // no temp file, no lock left

        string Generated(string model) => Printed(["generate", model, "-t", "0", "-n", "60", "--prime", "the ", "--threads", "1"]);
        Assert.Equal(Generated(folder), Generated(imported));
        Assert.Equal(Generated(folder), Printed(["generate", "back", "--models", models, "-t", "0", "-n", "60", "--prime", "the ", "--threads", "1"]));
        double Loss(string model)
        {
            using var json = JsonDocument.Parse(Printed(["eval", model, "--text", corpus, "--json", "--threads", "1"]));
            return json.RootElement.GetProperty("loss_nats_per_char").GetDouble();
        }
        Assert.Equal(Loss(folder), Loss(imported));

        // Listed as any model, with no validation loss of its own and where it came from.
        // stdout is the header and one row a model; where it came from is a note on stderr after the table, as warnings are.
        var (code, listing, noted) = Ran(["models", "--models", models]);
        Assert.Equal(0, code);
        Assert.Equal(2, listing.TrimEnd().Split('\n').Length);
        Assert.Matches(@"\nback +stateful-gru +[\d,]+ +1 +- +tiny ", listing);
        Assert.Matches(@"^charrnn: note: model 'back' was imported from m\.safetensors at \d{4}-\d\d-\d\d \d\d:\d\d; not validated here \(charrnn eval scores it\)$", noted.TrimEnd());

        // A resume is refused with why, before it asks for the corpus.
        AssertUserError(["resume", imported, "--epochs", "2", "--threads", "1"],
            $"charrnn: Checkpoint '{Path.Combine(imported, "last.ckpt")}' cannot be loaded: it was imported from 'm.safetensors', which holds the weights but not the optimizer state, " +
            "training options or corpus fingerprint a resume continues from; generate from it or evaluate it, or train a new model.");
    });

    [Fact]
    public void Import_never_replaces_a_model_and_takes_a_name_as_train_does() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var file = Path.Combine(root, "m.safetensors");
        Printed(["export", folder, "--out", file, "--threads", "1"]);
        var before = File.ReadAllBytes(Path.Combine(folder, "last.ckpt"));
        AssertUserError(["import", file, "--out", folder, "--threads", "1"], $"charrnn: '{folder}' already holds a model; import never replaces one: choose another --out.");
        AssertUserError(["import", file, "--models", root, "--name", "m", "--threads", "1"], $"charrnn: '{folder}' already holds a model; import never replaces one: choose another --name.");
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(folder, "last.ckpt")));
        AssertUserError(["import", file, "--models", root, "--name", "M", "--threads", "1"],
            $"charrnn: A model named 'm' exists in {root}, and names may not differ only in case (on some file systems they are one folder); choose another --name.");

        AssertUserError(["import", file, "--models", root, "--name", "a/b", "--threads", "1"], "charrnn: --name 'a/b' is not a valid name; a model name is 1 to 64 characters");
        AssertUserError(["import", file, "--models", root, "--name", "nul", "--threads", "1"], "charrnn: --name 'nul' is not allowed: NUL is a device name on Windows");
        AssertUserError(["import", file, "--threads", "1"], "charrnn: Give the new model a --name (its folder in --models), or its folder with --out.");
        AssertUserError(["import", file, "--name", "x", "--out", Path.Combine(root, "y"), "--threads", "1"], "charrnn: --out names the model's folder whole; give it, or --models and --name, not both.");

        // A file that is not a charrnn export: a usage error (exit 2), and no folder is left behind.
        var truncated = Path.Combine(root, "cut.safetensors");
        File.WriteAllBytes(truncated, File.ReadAllBytes(file)[..^4]);
        AssertUserError(["import", truncated, "--models", root, "--name", "cut", "--threads", "1"], $"charrnn: '{truncated}' cannot be imported: its tensors need ");
        AssertUserError(["import", Path.Combine(root, "none.safetensors"), "--models", root, "--name", "none", "--threads", "1"],
            $"charrnn: '{Path.Combine(root, "none.safetensors")}' cannot be imported: no such file.");
        // Metadata no export has (a vocabulary count below 0): the same usage error as a server's INVALID_ARGUMENT.
        var negative = Path.Combine(root, "negative.safetensors");
        using (var contents = Engine.Export.SafetensorsReader.Read(file))
        {
            var metadata = contents.Metadata.ToDictionary();
            var counts = JsonSerializer.Deserialize<long[]>(metadata["vocab_counts"])!;
            counts[2] = -3;
            metadata["vocab_counts"] = JsonSerializer.Serialize(counts);
            Engine.Export.SafetensorsFile.Write(negative, contents.Tensors, metadata);
        }
        AssertUserError(["import", negative, "--models", root, "--name", "negative", "--threads", "1"],
            $"charrnn: '{negative}' cannot be imported: its metadata 'vocab_counts' cannot be used: the count of symbol 2 (");
        Assert.False(Directory.Exists(Path.Combine(root, "cut")));
        Assert.False(Directory.Exists(Path.Combine(root, "none")));
        Assert.False(Directory.Exists(Path.Combine(root, "negative")));
    });
}
