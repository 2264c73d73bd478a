using System.Text.RegularExpressions;

namespace CharRnn.Tui.Tests;

/// <summary>charrnn generate --stop, --prime-file, --samples and --skip-unknown.</summary>
public partial class CommandLineTests
{
    [Theory]
    [InlineData(new[] { "generate", "m", "--samples", "0" }, "charrnn: --samples 0 is not allowed; give 1 to 64. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "--samples", "65" }, "charrnn: --samples 65 is not allowed; give 1 to 64. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "--prime", "the", "--prime-file", "p.txt" }, "charrnn: --prime and --prime-file both give the prime; give one of them.")]
    [InlineData(new[] { "generate", "m", "--prime-file", "" }, "charrnn: --prime-file is empty; give a file, or - for stdin.")]
    [InlineData(new[] { "generate", "m", "--precision", "fp16" }, "charrnn: --precision 'fp16' is not a precision; use float32 (the default: exact) or bf16 (")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--generation-precision", "bfloat16" }, "charrnn: --generation-precision 'bfloat16' is not a precision; use float32 (the default: exact) or bf16 (")]
    public void Generate_refuses_a_bad_samples_count_and_two_primes(string[] args, string start) => AssertUserError(args, start);

    [Fact]
    public void Generate_in_bf16_runs_an_lstm_and_refuses_a_model_without_a_bf16_path_saying_why() => InTempFolder(root =>
    {
        var (gru, corpus) = TrainedOneEpoch(root);
        var lstm = Path.Combine(root, "lstm");
        string[] tiny = ["--n-hidden", "8", "--n-fac", "4", "--bs", "4", "--sample-chars", "0", "--threads", "1"];
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-lstm", "--corpus", corpus, "--out", lstm, "--max-steps", "4", .. tiny]));
        string[] run = ["--prime", "the ", "-n", "40", "-t", "0", "--precision", "bf16", "--threads", "1"];
        if (Engine.Runtime.MklBf16Weight.WhyUnavailable is { } why)
        {
            AssertUserError(["generate", Path.Combine(lstm, "last.ckpt"), .. run], $"charrnn: --precision bf16 is not available here: {why}. Use --precision float32 (the default).");
            return;
        }
        Assert.Equal("the ".Length + 40 + 1, Printed(["generate", Path.Combine(lstm, "last.ckpt"), .. run]).Length);
        AssertUserError(["generate", Path.Combine(gru, "last.ckpt"), .. run],
            "charrnn: --precision bf16: a stateful-gru model has no bf16 path (stateful-lstm models have). Use --precision float32 (the default).");
    });

    [Fact]
    public void Generate_refuses_a_stop_string_too_long_to_match_cheaply() =>
        AssertUserError(["generate", "m", "--stop", new string('a', 1001)], "charrnn: --stop has 1001 UTF-16 code units; use at most 1000.");

    [Fact]
    public void Generate_with_stop_ends_each_sample_as_soon_as_its_text_ends_with_the_stop_string() => InTempFolder(root =>
    {
        var folder = Path.Combine(TrainedOneEpoch(root).Folder, "last.ckpt"); // a checkpoint given: stderr names none
        string[] run = ["generate", folder, "--prime", "the ", "-n", "300", "-t", "1", "--seed", "7", "--stop", "at", "--threads", "1"];
        var one = Printed(run);
        Assert.StartsWith("the ", one);
        var generated = one["the ".Length..^1];
        Assert.EndsWith("\n", one);
        Assert.EndsWith("at", generated);
        Assert.Equal(generated.Length - 2, generated.IndexOf("at", StringComparison.Ordinal)); // the first match ends it
        Assert.True(generated.Length < 300, generated);

        foreach (var sample in Samples(Printed([.. run, "--samples", "3"])))
        {
            var text = sample.Text["the ".Length..];
            Assert.Equal(text.Length - 2, text.IndexOf("at", StringComparison.Ordinal));
        }
        // Escapes: "\n" is a line feed, which this corpus has none of.
        AssertUserError(["generate", folder, "--stop", "mat.\\n", "--threads", "1"],
            "charrnn: --stop has 1 character(s) this model never generates: line feed (U+000A); it could never match. Use characters of the model's training corpus.");
        AssertUserError(["generate", folder, "--stop", "Zat", "--threads", "1"],
            "charrnn: --stop has 1 character(s) this model never generates: 'Z' (U+005A); it could never match. Use characters of the model's training corpus.");
    });

    [Fact]
    public void A_prime_file_saved_on_windows_or_a_prime_with_its_line_endings_is_read_as_the_models_corpus_was() => InTempFolder(root =>
    {
        // A corpus saved on Windows trains on "\n" (its "\r\n" read as "\n"): a prime file from the same source was refused for its '\r'.
        var corpus = Path.Combine(root, "crlf.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat(TuiFixture.Pattern.TrimEnd() + "\r\n", 120)));
        var folder = Path.Combine(root, "m");
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, "--epochs", "1", "--n-hidden", "8", "--n-fac", "4",
            "--bs", "4", "--sample-chars", "0", "--threads", "1"]));
        var file = Path.Combine(root, "prime.txt");
        File.WriteAllText(file, "the cat.\r\nthe mat.\r\n");
        string[] run = ["generate", Path.Combine(folder, "last.ckpt"), "-n", "40", "-t", "1", "--seed", "3", "--threads", "1"];
        var unix = Printed([.. run, "--prime", "the cat.\nthe mat.\n"]);
        Assert.Equal(unix, Printed([.. run, "--prime-file", file]));
        Assert.Equal(unix, Printed([.. run, "--prime", "the cat.\r\nthe mat.\r\n"])); // pasted from Windows: read as a server session reads a prime
    });

    [Fact]
    public void Generate_primes_from_a_file_as_from_the_same_text_given_with_prime() => InTempFolder(root =>
    {
        var folder = Path.Combine(TrainedOneEpoch(root).Folder, "last.ckpt"); // a checkpoint given: stderr names none
        var file = Path.Combine(root, "prime.txt");
        File.WriteAllText(file, "the cat sat on");
        string[] run = ["generate", folder, "-n", "60", "-t", "1", "--seed", "3", "--threads", "1"];
        var fromFile = Printed([.. run, "--prime-file", file]);
        Assert.Equal(Printed([.. run, "--prime", "the cat sat on"]), fromFile);
        Assert.StartsWith("the cat sat on", fromFile);

        File.WriteAllText(file, "");
        AssertUserError([.. run, "--prime-file", file], $"charrnn: --prime-file '{file}' is empty; give a prime of 1 to 100,000 characters, or leave it out to start from nothing.");
        File.WriteAllText(file, new string('a', 100_001));
        AssertUserError([.. run, "--prime-file", file], $"charrnn: --prime-file '{file}' has more than 100,000 characters, the most a prime may have");
        File.WriteAllBytes(file, [0x74, 0x68, 0xC3, 0x28]); // "th", then a lead byte without its continuation
        AssertUserError([.. run, "--prime-file", file], $"charrnn: --prime-file '{file}' is not UTF-8 text;");
        File.WriteAllText(file, "the Zat");
        AssertUserError([.. run, "--prime-file", file], $"charrnn: --prime-file '{file}' has 1 character(s) the model's vocabulary does not know, 1 time(s) in all: 'Z' (U+005A). "); // as --prime says it
        AssertUserError([.. run, "--prime", "the Zat"], "charrnn: --prime has 1 character(s) the model's vocabulary does not know, 1 time(s) in all: 'Z' (U+005A). ");
        AssertUserError([.. run, "--prime-file", Path.Combine(root, "none.txt")], $"charrnn: --prime-file '{Path.Combine(root, "none.txt")}' does not exist");
    });

    [Fact]
    public void Generate_samples_continues_the_prime_several_times_in_one_batch_each_with_its_own_seed() => InTempFolder(root =>
    {
        var folder = Path.Combine(TrainedOneEpoch(root).Folder, "last.ckpt"); // a checkpoint given: stderr names none
        string[] run = ["generate", folder, "--prime", "the ", "-n", "60", "-t", "1.5", "--seed", "41", "--threads", "1"];
        var samples = Samples(Printed([.. run, "--samples", "3"]));
        Assert.Equal([(1, 41UL), (2, 42UL), (3, 43UL)], samples.Select(s => (s.Index, s.Seed)));
        Assert.Equal(Printed(run), samples[0].Text + "\n"); // the first is what one sample gives: no header then
        Assert.All(samples, s => Assert.StartsWith("the ", s.Text));
        Assert.All(samples, s => Assert.Equal("the ".Length + 60, s.Text.Length));
        Assert.Equal(3, samples.Select(s => s.Text).Distinct().Count());
        // Sample 2 is what one sample seeded 42 gives.
        Assert.Equal(Printed(["generate", folder, "--prime", "the ", "-n", "60", "-t", "1.5", "--seed", "42", "--threads", "1"]), samples[1].Text + "\n");

        var greedy = Samples(Printed(["generate", folder, "--prime", "the ", "-n", "60", "-t", "0", "--samples", "4", "--threads", "1"]));
        Assert.Equal(4, greedy.Count);
        Assert.Single(greedy.Select(s => s.Text).Distinct());
    });

    [Fact]
    public void Generate_with_skip_unknown_generates_from_the_prime_without_the_chars_the_model_cannot_read_and_says_which() => InTempFolder(root =>
    {
        var folder = Path.Combine(TrainedOneEpoch(root).Folder, "last.ckpt"); // a checkpoint given: stderr names none
        string[] run = ["generate", folder, "-n", "60", "-t", "1", "--seed", "5", "--threads", "1"];
        const string dirty = "the Zcat\U0001F600 sat Zon"; // Z and an emoji (two UTF-16 units): neither in the corpus
        var (skipped, said) = PrintedAndSaid([.. run, "--prime", dirty, "--skip-unknown"]);
        Assert.Equal(Printed([.. run, "--prime", "the cat sat on"]), skipped); // the cleaned prime, printed and fed; the same seed's text
        Assert.Equal("charrnn: 3 unknown char(s) skipped ('Z' (U+005A) ×2, '\U0001F600' (U+1F600)) from the prime", said.TrimEnd()); // eval's wording
        var file = Path.Combine(root, "prime.txt");
        File.WriteAllText(file, dirty);
        Assert.Equal((skipped, said), PrintedAndSaid([.. run, "--prime-file", file, "--skip-unknown"]));
        Assert.Equal("", PrintedAndSaid([.. run, "--prime", "the cat", "--skip-unknown"]).Error); // nothing skipped, nothing said

        // Without the flag the prime is refused, pointing at it.
        const string refusal = "has 2 character(s) the model's vocabulary does not know, 3 time(s) in all: 'Z' (U+005A), '\U0001F600' (U+1F600). " +
                               "Nothing was generated: remove them from the prime, give --skip-unknown to leave them out and generate from the rest, or use a model trained on a corpus that has them.";
        AssertUserError([.. run, "--prime", dirty], $"charrnn: --prime {refusal}");
        AssertUserError([.. run, "--prime-file", file], $"charrnn: --prime-file '{file}' {refusal}");

        // NUL is in every vocabulary as padding, not as text: refused as the server refuses it, or with --skip-unknown
        // left out and counted as its UNKNOWN_CHARS_SKIP does (a file is how a NUL reaches a real command line).
        var padded = Path.Combine(root, "padded.txt");
        File.WriteAllText(padded, "the cat\0 sat on");
        const string padding = "contains control character (U+0000), which the model's vocabulary holds as padding, not as text the model reads. " +
                               "Nothing was generated: remove it, or give --skip-unknown to leave it out and generate from the rest.";
        AssertUserError([.. run, "--prime-file", padded], $"charrnn: --prime-file '{padded}' {padding}");
        AssertUserError([.. run, "--prime", "the \0cat"], $"charrnn: --prime {padding}");
        var (withoutPadding, saidPadding) = PrintedAndSaid([.. run, "--prime-file", padded, "--skip-unknown"]);
        Assert.Equal(Printed([.. run, "--prime", "the cat sat on"]), withoutPadding);
        Assert.Equal("charrnn: 1 unknown char(s) skipped (control character (U+0000)) from the prime", saidPadding.TrimEnd());
        Assert.Equal("charrnn: 4 unknown char(s) skipped ('Z' (U+005A) ×2, control character (U+0000), '\U0001F600' (U+1F600)) from the prime",
            PrintedAndSaid([.. run, "--prime", "the Zcat\0\U0001F600 sat Zon", "--skip-unknown"]).Error.TrimEnd()); // in the order first met

        // A lowercase model reads capitals as lowercase: only what it cannot read even so is skipped, as the server's SKIP does.
        var lower = Path.Combine(root, "lower");
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", Path.Combine(root, "tiny.txt"), "--out", lower, "--lower", "--epochs", "1",
            "--n-hidden", "8", "--n-fac", "4", "--bs", "4", "--sample-chars", "0", "--threads", "1"]));
        string[] lowerRun = ["generate", Path.Combine(lower, "last.ckpt"), "-n", "40", "-t", "1", "--seed", "5", "--threads", "1"];
        var (fromCapitals, saidLower) = PrintedAndSaid([.. lowerRun, "--prime", "THE CAT\u2603 SAT", "--skip-unknown"]);
        Assert.Equal(Printed([.. lowerRun, "--prime", "the cat sat"]), fromCapitals);
        Assert.Equal("charrnn: 1 unknown char(s) skipped ('\u2603' (U+2603)) from the prime", saidLower.TrimEnd());
    });

    /// <summary>The samples of a --samples run: each header's number and seed, and the text after it (its line feed left off).</summary>
    private static List<(int Index, ulong Seed, string Text)> Samples(string printed)
    {
        var headers = Regex.Matches(printed, @"^--- sample (\d+) of (\d+) \(seed (\d+)\) ---\n", RegexOptions.Multiline);
        Assert.NotEmpty(headers);
        Assert.Equal(0, headers[0].Index);
        var samples = new List<(int, ulong, string)>();
        for (int i = 0; i < headers.Count; i++)
        {
            var start = headers[i].Index + headers[i].Length;
            var end = i + 1 < headers.Count ? headers[i + 1].Index : printed.Length;
            Assert.Equal(headers.Count.ToString(), headers[i].Groups[2].Value);
            Assert.EndsWith("\n", printed[start..end]);
            samples.Add((int.Parse(headers[i].Groups[1].Value), ulong.Parse(headers[i].Groups[3].Value), printed[start..(end - 1)]));
        }
        return samples;
    }
}
