using System.Text.Json;

namespace CharRnn.Tui.Tests;

/// <summary>charrnn eval --skip-unknown: a text with characters the model does not know, scored on the rest.</summary>
public partial class CommandLineTests
{
    [Fact]
    public void Eval_with_skip_unknown_scores_the_text_without_the_unknown_chars_and_says_which_it_skipped() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var dirty = Path.Combine(root, "dirty.txt");
        var clean = Path.Combine(root, "clean.txt");
        const string dirtyPart = "the cat Zsat on\U0001F600 the mat. \u2603the cat sat on the Zmat. "; // Z, an emoji (two UTF-16 units) and a snowman: none in the corpus
        File.WriteAllText(dirty, string.Concat(Enumerable.Repeat(dirtyPart, 10)));
        File.WriteAllText(clean, string.Concat(Enumerable.Repeat(TuiFixture.Pattern + TuiFixture.Pattern, 10))); // the same text, those left out by hand

        var scored = Printed(["eval", folder, "--text", dirty, "--skip-unknown", "--threads", "1"]).TrimEnd();
        var reference = Printed(["eval", folder, "--text", clean, "--threads", "1"]).TrimEnd();
        Assert.Equal(reference.Replace(clean, dirty) + " · 40 unknown char(s) skipped ('Z' (U+005A) ×20, '\U0001F600' (U+1F600) ×10, '\u2603' (U+2603) ×10)", scored);

        using var json = JsonDocument.Parse(Printed(["eval", folder, "--text", dirty, "--skip-unknown", "--json", "--threads", "1"]));
        using var cleanJson = JsonDocument.Parse(Printed(["eval", folder, "--text", clean, "--json", "--threads", "1"]));
        Assert.Equal(40, json.RootElement.GetProperty("unknown_chars_skipped").GetInt32());
        Assert.Equal(0, cleanJson.RootElement.GetProperty("unknown_chars_skipped").GetInt32());
        Assert.Equal(cleanJson.RootElement.GetProperty("characters_scored").GetInt64(), json.RootElement.GetProperty("characters_scored").GetInt64());
        Assert.Equal(cleanJson.RootElement.GetProperty("loss_nats_per_char").GetDouble(), json.RootElement.GetProperty("loss_nats_per_char").GetDouble(), 9);

        // Without the flag the same file is refused, pointing at it; with it, a text left too short says what was left out.
        AssertUserError(["eval", folder, "--text", dirty, "--threads", "1"],
            $"charrnn: --text '{dirty}' has 3 character(s) the model's vocabulary does not know, 40 time(s) in all: 'Z' (U+005A), '\U0001F600' (U+1F600), '\u2603' (U+2603). " +
            "Nothing was scored: remove them from the text, give --skip-unknown to leave them out and score the rest, or score it with a model trained on a corpus that has them.");
        var shortened = Path.Combine(root, "short.txt");
        File.WriteAllText(shortened, "Z\u2603t");
        AssertUserError(["eval", folder, "--text", shortened, "--skip-unknown", "--threads", "1"],
            $"charrnn: --text '{shortened}' has 1 character(s); the model needs at least 2 to score one (each char is scored from those before it). That is what is left once --skip-unknown left out 2 unknown char(s).");
    });

    [Fact]
    public void Eval_and_export_of_a_folder_whose_best_checkpoint_is_damaged_use_last_ckpt_and_say_so() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var text = Path.Combine(root, "text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat(TuiFixture.Pattern, 4)));
        File.WriteAllBytes(Path.Combine(folder, "best.ckpt"), [1, 2, 3]);

        var (scored, said) = PrintedAndSaid(["eval", folder, "--text", text, "--threads", "1"]);
        Assert.EndsWith("Scoring with last.ckpt instead.", said.Trim());
        Assert.Contains($"scored by {Path.Combine(folder, "last.ckpt")} · ", scored); // the file it came from, not best.ckpt
        var exported = Path.Combine(root, "m.safetensors");
        (_, said) = PrintedAndSaid(["export", folder, "--out", exported, "--threads", "1"]);
        Assert.EndsWith("Exporting last.ckpt instead.", said.Trim());
        Assert.True(File.Exists(exported));
    });

    [Fact]
    public void Eval_reads_a_texts_windows_line_endings_as_the_corpus_was_read_with_or_without_skip_unknown() => InTempFolder(root =>
    {
        // A corpus saved on Windows trains on "\n" (its "\r\n" read as "\n"): scoring that very file was refused for its '\r'.
        var lines = string.Concat(Enumerable.Repeat(TuiFixture.Pattern.TrimEnd() + "\n", 120));
        var (lf, crlf) = (Path.Combine(root, "lf.txt"), Path.Combine(root, "crlf.txt"));
        File.WriteAllText(lf, lines);
        File.WriteAllText(crlf, lines.Replace("\n", "\r\n"));
        var folder = Path.Combine(root, "m");
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", crlf, "--out", folder, "--epochs", "1", "--n-hidden", "8", "--n-fac", "4",
            "--bs", "4", "--sample-chars", "0", "--threads", "1"]));

        var reference = Printed(["eval", folder, "--text", lf, "--threads", "1"]).TrimEnd();
        Assert.Equal(reference.Replace(lf, crlf), Printed(["eval", folder, "--text", crlf, "--threads", "1"]).TrimEnd());
        Assert.Equal(reference.Replace(lf, crlf), Printed(["eval", folder, "--text", crlf, "--skip-unknown", "--threads", "1"]).TrimEnd()); // no '\r' said to be skipped
    });
}

/// <summary>charrnn eval --json of a model that scores past what a double holds.</summary>
public partial class CommandLineTests
{
    /// <summary>
    /// An imported model with enormous output biases scores thousands of nats a char: its perplexity, e^loss, is past what a
    /// double holds. --json wrote nothing and exited 2 with the serializer's "number values such as positive and negative
    /// infinity cannot be written as valid JSON"; it now prints the figures, the perplexity as null (JSON has no Infinity).
    /// </summary>
    [Fact]
    public void Eval_json_writes_a_perplexity_past_what_a_double_holds_as_null() => InTempFolder(root =>
    {
        var (_, corpus, file) = ExportedOneEpoch(root);
        var bytes = File.ReadAllBytes(file);
        var headerLength = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength)).RootElement;
        var bias = header.GetProperty("l_out.bias").GetProperty("data_offsets");
        var (start, end) = (8 + headerLength + bias[0].GetInt32(), 8 + headerLength + bias[1].GetInt32());
        for (var at = start; at < end; at += 4) // each char's bias 5,000 nats above the one before: most chars score thousands of nats
            BitConverter.TryWriteBytes(bytes.AsSpan(at, 4), 5000f * ((at - start) / 4));
        var huge = Path.Combine(root, "huge.safetensors");
        File.WriteAllBytes(huge, bytes);
        var models = Path.Combine(root, "models");
        Printed(["import", huge, "--models", models, "--name", "huge", "--threads", "1"]);

        using var json = JsonDocument.Parse(Printed(["eval", Path.Combine(models, "huge"), "--text", corpus, "--json", "--threads", "1"]));
        var figures = json.RootElement;
        Assert.True(figures.GetProperty("loss_nats_per_char").GetDouble() > 709); // e^709 is about the largest double
        Assert.Equal(JsonValueKind.Null, figures.GetProperty("perplexity").ValueKind);
        Assert.Equal(JsonValueKind.Number, figures.GetProperty("bits_per_char").ValueKind);
    });
}
