using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Tui.Cli;

namespace CharRnn.Tui.Tests;

/// <summary>charrnn models --json, charrnn models NAME (with --json) and charrnn archs --json.</summary>
public partial class CommandLineTests
{
    [Fact]
    public void Models_json_gives_each_model_typed_fields_and_a_damaged_one_its_error() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        Directory.CreateDirectory(Path.Combine(root, "broken"));
        File.WriteAllText(Path.Combine(root, "broken", "last.ckpt"), "not a checkpoint");
        var meta = CheckpointFile.ReadMetadata(Path.Combine(folder, "last.ckpt"));

        using var json = JsonDocument.Parse(Printed(["models", "--models", root, "--json"]));
        var models = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(["broken", "m"], models.Select(m => m.GetProperty("name").GetString()));
        var broken = models[0];
        Assert.Contains("it is not a CharRnn checkpoint", broken.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, broken.GetProperty("architecture").ValueKind); // listed with its error, not dropped
        Assert.Equal(JsonValueKind.Null, broken.GetProperty("generation_checkpoint").ValueKind); // its one file cannot be used

        var m = models[1];
        Assert.Equal(JsonValueKind.Null, m.GetProperty("error").ValueKind);
        Assert.Equal(folder, m.GetProperty("folder").GetString());
        Assert.Equal("stateful-gru", m.GetProperty("architecture").GetString());
        Assert.Equal(8, m.GetProperty("hyperparameters").GetProperty("n_hidden").GetDouble());
        Assert.Equal(4, m.GetProperty("hyperparameters").GetProperty("n_fac").GetDouble());
        Assert.Equal(meta.ParameterCount, m.GetProperty("parameters").GetInt64());
        Assert.Equal(1, m.GetProperty("epochs").GetInt32());
        Assert.Equal(meta.Position.BestValidLoss, m.GetProperty("best_valid_loss").GetDouble());
        Assert.Equal("tiny", m.GetProperty("corpus").GetString());
        Assert.False(m.GetProperty("lowercase").GetBoolean());
        Assert.False(m.GetProperty("imported").GetBoolean());
        Assert.Equal(Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length), m.GetProperty("bytes").GetInt64());
        var saved = m.GetProperty("saved").GetString()!;
        Assert.EndsWith("Z", saved);
        Assert.Equal(meta.Saved.ToUnixTimeSeconds(), DateTimeOffset.Parse(saved, CultureInfo.InvariantCulture).ToUnixTimeSeconds());
        Assert.Equal("best.ckpt", m.GetProperty("generation_checkpoint").GetString());

        // An empty folder is an empty array, not the table's sentence.
        var empty = Directory.CreateDirectory(Path.Combine(root, "none")).FullName;
        Assert.Equal("[]", Printed(["models", "--models", empty, "--json"]).Trim());
    });

    [Fact]
    public void A_models_warning_goes_to_stderr_and_leaves_stdout_the_header_and_one_row_a_model() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var last = Path.Combine(folder, "last.ckpt");
        var bytes = File.ReadAllBytes(last);
        File.WriteAllBytes(last, bytes[..(bytes.Length / 2)]); // best.ckpt intact: listed, with a warning
        // charrnn models and the REPL's models under --exec, whose tables scripts read line by line: the warning was a line of the table.
        foreach (var args in new[] { ["models", "--models", root], new[] { "--models", root, "--threads", "1", "--exec", "models" } })
        {
            var (printed, said) = args[0] == "models" ? PrintedAndSaid(args) : RanApart(args);
            var lines = printed.TrimEnd().Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("NAME ", lines[0], StringComparison.Ordinal);
            Assert.Matches("^m +stateful-gru ", lines[1]);
            Assert.Contains("warning: model 'm': last.ckpt cannot be loaded (it is damaged or truncated", said);
        }
        // --json: the warning is the model's field, and stdout is the JSON alone.
        using var json = JsonDocument.Parse(Printed(["models", "--models", root, "--json"]));
        Assert.StartsWith("last.ckpt cannot be loaded", Assert.Single(json.RootElement.EnumerateArray()).GetProperty("warning").GetString(), StringComparison.Ordinal);
    });

    /// <summary>charrnn in a process of its own (--exec runs only so): stdout and stderr; a run that exits other than 0 fails the test.</summary>
    private static (string Out, string Error) RanApart(string[] args)
    {
        using var process = StartCharrnn(args);
        var (output, error) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(120)), "charrnn did not end");
        if (process.ExitCode != 0) Assert.Fail($"charrnn {string.Join(' ', args)} exited {process.ExitCode}: {error.Result}");
        return (output.Result, error.Result);
    }

    [Fact]
    public void Models_NAME_shows_the_model_as_info_does_with_every_epoch_and_its_checkpoints() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var meta = CheckpointFile.ReadMetadata(Path.Combine(folder, "last.ckpt"));
        var epoch = Assert.Single(meta.History);

        var lines = Printed(["models", "m", "--models", root]).TrimEnd().Split('\n');
        Assert.Equal($"m · stateful-gru · {meta.ParameterCount:N0} parameters · corpus tiny", lines[0]);
        Assert.Contains("  hyperparameters: --bptt 8 · --bs 4 · --dropout 0 · --layers 1 · --n-fac 4 · --n-hidden 8 · --random-bptt true", lines);
        Assert.Contains("  training: 1 epoch(s), " + meta.Position.Step.ToString("N0", CultureInfo.InvariantCulture) + " steps · --optimizer adam · --lr 0.001 · --schedule constant · --min-freq 1 · --val-fraction 0.2", lines);
        var loss = meta.Position.BestValidLoss.ToString("F4", CultureInfo.InvariantCulture);
        Assert.Contains($"  validation loss (nats/char): best {loss} · last {loss}; generation uses best.ckpt", lines);
        Assert.Contains(EpochTable.Header, lines);
        Assert.Contains(EpochTable.Row(1, epoch.Step, epoch.TrainLoss, epoch.ValidLoss, epoch.ValidAccuracy, epoch.LearningRate, epoch.ElapsedSeconds), lines);
        Assert.Contains($"  checkpoints in {folder}:", lines);
        Assert.Single(lines, l => l.StartsWith("  best.ckpt ", StringComparison.Ordinal) && l.EndsWith($"epoch 1, step {epoch.Step:N0}, val {loss} (best validation loss)", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("  last.ckpt ", StringComparison.Ordinal) && l.Contains("epoch 1, ", StringComparison.Ordinal));

        // Found as generate finds a model: its folder, or one of its checkpoints, gives the same.
        Assert.Equal(string.Join('\n', lines), Printed(["models", folder]).TrimEnd());
        Assert.StartsWith("m · stateful-gru · ", Printed(["models", Path.Combine(folder, "last.ckpt")]));

        using var json = JsonDocument.Parse(Printed(["models", "m", "--models", root, "--json"]));
        var d = json.RootElement;
        Assert.Equal("m", d.GetProperty("model").GetProperty("name").GetString());
        Assert.Equal("adam", d.GetProperty("training").GetProperty("optimizer").GetString());
        var row = Assert.Single(d.GetProperty("history").EnumerateArray().ToList());
        Assert.Equal(1, row.GetProperty("epoch").GetInt32());
        Assert.Equal(epoch.TrainLoss, row.GetProperty("train_loss").GetDouble());
        Assert.Equal(epoch.ValidLoss, row.GetProperty("valid_loss").GetDouble());
        Assert.Equal(epoch.LearningRate, row.GetProperty("lr").GetDouble());
        Assert.Equal(["best.ckpt", "last.ckpt"], d.GetProperty("checkpoints").EnumerateArray().Select(c => c.GetProperty("file").GetString()));
        Assert.Equal(new FileInfo(Path.Combine(folder, "best.ckpt")).Length, d.GetProperty("checkpoints")[0].GetProperty("bytes").GetInt64());
    });

    [Fact]
    public void Models_NAME_json_gives_the_early_stopping_the_model_was_trained_with() => InTempFolder(root =>
    {
        // The table's training line names patience and min_delta; the JSON's training object must hold both too.
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", Path.Combine(root, "m"), "--epochs", "1", "--n-hidden", "8",
            "--n-fac", "4", "--bs", "4", "--sample-chars", "0", "--threads", "1", "--patience", "3", "--min-delta", "0.01"]));
        Assert.Contains(" · --patience 3 · --min-delta 0.01 · ", Printed(["models", "m", "--models", root]));

        using var json = JsonDocument.Parse(Printed(["models", "m", "--models", root, "--json"]));
        var training = json.RootElement.GetProperty("training");
        Assert.Equal(3, training.GetProperty("patience").GetInt32());
        Assert.Equal(0.01, training.GetProperty("min_delta").GetDouble());
    });

    /// <summary>
    /// An `info` line as models NAME writes it: each setting of the hyperparameters and training lines (`n_hidden 8`,
    /// `val_fraction 0.2`) as the flag that gives it (`--n-hidden 8`, `--val-fraction 0.2`); how far it trained stays.
    /// </summary>
    private static string InFlags(string line)
    {
        var heading = Regex.Match(line, "^  (hyperparameters|training): ");
        if (!heading.Success) return line;
        return heading.Value + string.Join(" · ", line[heading.Length..].Split(" · ").Select(setting =>
            Regex.Replace(setting, "^([a-z_]+) ", m => "--" + m.Groups[1].Value.Replace('_', '-') + " ")));
    }

    [Fact]
    public async Task Models_NAME_says_what_the_REPLs_info_says_each_setting_named_as_its_flag()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-info-").FullName;
        try
        {
            // Options that are off are left out of both; these are on, so both must name them alike.
            var corpus = Path.Combine(root, "tiny.txt");
            File.WriteAllText(corpus, TuiFixture.TinyText);
            Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", Path.Combine(root, "m"), "--epochs", "1", "--n-hidden", "8",
                "--n-fac", "4", "--bs", "4", "--sample-chars", "0", "--threads", "1", "--patience", "3", "--min-delta", "0.01", "--clip", "0.5"]));
            // And a model started from m's weights, which says so.
            Assert.Equal(0, Quietly(["train", "--init-from", "m", "--models", root, "--name", "tuned", "--corpus", corpus, "--epochs", "1", "--bs", "4", "--sample-chars", "0", "--threads", "1"]));
            await using var server = await Client.EmbeddedServer.StartAsync(new ModelServer.Hosting.ServerOptions { ModelsDirectory = root, Device = "cpu", Threads = 1 });
            using var client = new Client.CharRnnClient(server.Address, server.Token);
            foreach (var model in new[] { "m", "tuned" })
            {
                var cli = Printed(["models", model, "--models", root]).TrimEnd().Split('\n');
                var output = new RecordingReplOutput();
                await using (var runner = new Repl.CommandRunner(client, output, interactive: false))
                    await runner.RunLineAsync($"info {model}");
                Assert.Empty(output.Errors);
                // info shows the last five epochs (here the one there is); models NAME goes on with the checkpoints.
                var info = output.Lines.ToList();
                Assert.True(info.Count >= 7, string.Join('\n', info));
                Assert.Equal(info.Select(InFlags), cli.Take(info.Count));
                Assert.StartsWith("  checkpoints in ", cli[info.Count]);
                Assert.Equal(model == "tuned", info.Any(l => l.StartsWith("  started from m (best.ckpt, epoch 1, validation loss ", StringComparison.Ordinal)));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(root, true);
        }
    }

    /// <summary>
    /// models NAME (and --json) of a model whose checkpoints are both truncated exits 1, a fault of the data, as eval, generate and
    /// resume exit on a damaged checkpoint (docs/cli.md's exit codes); it exited 2, a usage error, which a script reads as its own mistake.
    /// A file that is no checkpoint at all stays a usage error.
    /// </summary>
    [Fact]
    public void Models_NAME_of_a_damaged_model_exits_1_as_a_damaged_checkpoint_does_elsewhere() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        TruncateBothCheckpoints(folder);
        var last = Path.Combine(folder, "last.ckpt");
        AssertUserError(["models", "m", "--models", root], $"charrnn: Model 'm' cannot be read: Checkpoint '{last}' cannot be loaded: it is damaged or truncated", exitCode: 1);
        AssertUserError(["models", "m", "--models", root, "--json"], $"charrnn: Model 'm' cannot be read: Checkpoint '{last}' cannot be loaded: it is damaged or truncated", exitCode: 1);
        File.WriteAllText(last, "not a checkpoint");
        AssertUserError(["models", "m", "--models", root, "--json"], $"charrnn: Model 'm' cannot be read: Checkpoint '{last}' cannot be loaded: it is not a CharRnn checkpoint");
    });

    [Fact]
    public void Models_with_an_unknown_name_says_which_models_there_are() => InTempFolder(root =>
    {
        TrainedOneEpoch(root);
        AssertUserError(["models", "mm", "--models", root],
            $"charrnn: No model 'mm' in --models '{root}', nor a model folder or .ckpt file of that path; the models there: m. Did you mean 'm'?");
        var empty = Directory.CreateDirectory(Path.Combine(root, "none")).FullName;
        AssertUserError(["models", "m", "--models", empty, "--json"],
            $"charrnn: No model 'm' in --models '{empty}', nor a model folder or .ckpt file of that path; it holds no models.");
    });

    /// <summary>
    /// A model whose best.ckpt and last.ckpt are both damaged has no checkpoint to generate from: models --json said
    /// generation_checkpoint "best.ckpt", a file that fails to load; it is null, and the error (the plain listing's line too)
    /// names both files and says none can be used.
    /// </summary>
    [Fact]
    public void Models_of_a_model_whose_checkpoints_are_both_damaged_names_no_generation_checkpoint() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        TruncateBothCheckpoints(folder);
        using var json = JsonDocument.Parse(Printed(["models", "--models", root, "--json"]));
        var m = Assert.Single(json.RootElement.EnumerateArray().ToList());
        Assert.Equal(JsonValueKind.Null, m.GetProperty("generation_checkpoint").ValueKind);
        var error = m.GetProperty("error").GetString()!;
        Assert.StartsWith($"Checkpoint '{Path.Combine(folder, "last.ckpt")}' cannot be loaded: it is damaged or truncated", error);
        Assert.Contains("; and best.ckpt cannot be loaded either (it is damaged or truncated", error);
        Assert.EndsWith("): no checkpoint of this model can be used.", error);
        Assert.Contains($"m unreadable: {error}", Printed(["models", "--models", root]).Split('\n').Select(l => l.TrimEnd()).Select(l => Regex.Replace(l, " {2,}", " ")));
    });

    private static void TruncateBothCheckpoints(string folder)
    {
        foreach (var file in new[] { "best.ckpt", "last.ckpt" })
        {
            var path = Path.Combine(folder, file);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        }
    }

    /// <summary>
    /// --json writes text as it reads: a French model's vocabulary, a summary's "lesson's", are not \u00e9 and \u0027
    /// (the default encoder's HTML-safe escaping, which stdout does not need); control chars are still escaped.
    /// </summary>
    [Fact]
    public void Json_output_writes_text_as_it_reads_and_escapes_control_chars()
    {
        Assert.Equal("{\"s\":\"l'été <b> & «ü» \\u0001\\n\\\"\"}", Cli.ScriptJson.Serialize(new { s = "l'été <b> & «ü» \u0001\n\"" }));
        var printed = Printed(["archs", "--json"]);
        Assert.Contains("(the lesson's cs)", printed); // --context's doc
        Assert.DoesNotContain("\\u0027", printed);
    }

    /// <summary>
    /// models --json's corpus_code_points counts the corpus in characters (an emoji once), next to corpus_characters, UTF-16
    /// units as it always was (the emoji twice); resume's refusal of a file it cannot find says "N chars" in characters too
    /// (it said the UTF-16 count). A checkpoint saved before code points were stored has null, and "N UTF-16 units", until a
    /// resume stores them.
    /// </summary>
    [Fact]
    public void Models_json_and_resumes_refusal_count_the_corpus_in_characters_an_emoji_once() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "emoji.txt");
        var text = TuiFixture.TinyText + "😀 🐱\n";
        File.WriteAllText(corpus, text);
        var folder = Path.Combine(root, "m");
        string[] train = ["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, "--epochs", "1", "--n-hidden", "8", "--n-fac", "4",
            "--bs", "4", "--sample-chars", "0", "--threads", "1"];
        Assert.Equal(0, Quietly(train));
        var (units, chars) = ((long)text.Length, (long?)(text.Length - 2));
        Assert.Equal((units, chars), CorpusSizes());
        AssertUserError(["resume", folder, "--epochs", "2", "--threads", "1"],
            string.Create(CultureInfo.InvariantCulture, $"charrnn: The model was trained on corpus 'emoji' ({chars:N0} chars, SHA-256 "));

        var last = Path.Combine(folder, "last.ckpt");
        using (var saved = CheckpointFile.Read(last))
            CheckpointFile.Write(last, new Checkpoint(saved.Metadata with { Corpus = saved.Metadata.Corpus with { CodePoints = 0 } }, saved.Tensors, saved.Blobs));
        Assert.Equal((units, (long?)null), CorpusSizes());
        AssertUserError(["resume", folder, "--epochs", "2", "--threads", "1"],
            string.Create(CultureInfo.InvariantCulture, $"charrnn: The model was trained on corpus 'emoji' ({units:N0} UTF-16 units, SHA-256 "));
        Assert.Equal(0, Quietly(["resume", folder, "--corpus", corpus, "--epochs", "2", "--threads", "1"]));
        Assert.Equal((units, chars), CorpusSizes());

        (long, long?) CorpusSizes()
        {
            using var json = JsonDocument.Parse(Printed(["models", "m", "--models", root, "--json"]));
            var codePoints = json.RootElement.GetProperty("corpus_code_points");
            return (json.RootElement.GetProperty("corpus_characters").GetInt64(), codePoints.ValueKind == JsonValueKind.Null ? null : codePoints.GetInt64());
        }
    });

    /// <summary>
    /// A char beyond U+FFFF (an emoji in a corpus's name or a vocabulary) is written raw, as UTF-8 carries it: it was its
    /// \u surrogate-pair escape ("\uD83D\uDE00"). A backslash followed by the text "uD83D" stays an escaped backslash.
    /// </summary>
    [Fact]
    public void Json_output_writes_a_char_beyond_U_FFFF_as_it_reads_not_as_a_surrogate_pair_escape()
    {
        var json = Cli.ScriptJson.Serialize(new { s = @"a😀b 🐱\uD83D\uDE00", v = new[] { "😀", @"\😀" } });
        Assert.Equal(@"{""s"":""a😀b 🐱\\uD83D\\uDE00"",""v"":[""😀"",""\\😀""]}", json);
        using var read = JsonDocument.Parse(json);
        Assert.Equal(@"a😀b 🐱\uD83D\uDE00", read.RootElement.GetProperty("s").GetString());
        Assert.Equal(["😀", @"\😀"], read.RootElement.GetProperty("v").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Archs_json_lists_every_architecture_with_its_hyperparameters_defaults_and_ranges()
    {
        using var json = JsonDocument.Parse(Printed(["archs", "--json"]));
        var archs = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(Architectures.All.Select(a => a.Name), archs.Select(a => a.GetProperty("name").GetString()));
        foreach (var (arch, listed) in Architectures.All.Zip(archs))
        {
            Assert.Equal(arch.Summary, listed.GetProperty("description").GetString());
            Assert.Equal(LessonNames.ClassOf(arch.Name), listed.GetProperty("lesson_class").GetString());
            var specs = listed.GetProperty("hyperparameters").EnumerateArray().ToList();
            Assert.Equal(arch.Parameters.Select(p => p.Name), specs.Select(s => s.GetProperty("name").GetString()));
            foreach (var (p, s) in arch.Parameters.Zip(specs))
                Assert.Equal((p.Default, p.Min, p.Max), (s.GetProperty("default").GetDouble(), s.GetProperty("min").GetDouble(), s.GetProperty("max").GetDouble()));
            var lr = listed.GetProperty("training_options").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "lr");
            Assert.Equal(arch.DefaultLearningRate, lr.GetProperty("default").GetDouble());
        }
        Assert.Contains(archs, a => a.GetProperty("recipes").EnumerateArray().Any(r => r.GetProperty("name").GetString() == "lesson"));
        Assert.Equal("CharSeqStatefulLSTM", archs.Single(a => a.GetProperty("name").GetString() == "stateful-lstm").GetProperty("lesson_class").GetString());
        Assert.Equal("CharSeqStatefulRnn2", archs.Single(a => a.GetProperty("name").GetString() == "stateful-rnn-cell").GetProperty("lesson_class").GetString());
    }
}
