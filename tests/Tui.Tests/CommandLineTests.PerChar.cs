using System.Globalization;
using System.Text.Json;

namespace CharRnn.Tui.Tests;

/// <summary>charrnn eval --per-char: each scored char's score as TSV, to a file (atomically) or stdout.</summary>
public partial class CommandLineTests
{
    /// <summary>A tab, a backslash and a line break in every line, so the model knows them and the table must escape them.</summary>
    private const string EscapedLine = "the cat\tsat on\\the mat.\n";

    private static string TrainedOnEscapes(string root)
    {
        var corpus = Path.Combine(root, "escapes.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat(EscapedLine, 100)));
        var folder = Path.Combine(root, "m");
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, "--epochs", "1", "--n-hidden", "8", "--n-fac", "4",
            "--bs", "4", "--sample-chars", "0", "--threads", "1"]));
        return folder;
    }

    [Fact]
    public void Eval_per_char_writes_a_line_per_scored_char_escaped_whose_mean_loss_is_the_summarys() => InTempFolder(root =>
    {
        var folder = TrainedOnEscapes(root);
        var text = Path.Combine(root, "held-out.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat(EscapedLine, 3))); // 72 chars, one stream: chars 1 to 71 scored
        var table = Path.Combine(root, "out", "chars.tsv"); // its folder is made

        using var json = JsonDocument.Parse(Printed(["eval", folder, "--text", text, "--per-char", table, "--json", "--threads", "1"])); // the summary as it was
        var summary = json.RootElement;
        var lines = File.ReadAllText(table).Split('\n');
        Assert.Equal("", lines[^1]); // every line ends in \n
        Assert.Equal("index\tchar\tloss_nats\tp\ttop1", lines[0]);
        var rows = lines[1..^1].Select(l => l.Split('\t')).ToList();
        Assert.Equal(71, summary.GetProperty("characters_scored").GetInt64());
        Assert.Equal(71, rows.Count);
        Assert.All(rows, r => Assert.Equal(5, r.Length));
        Assert.Equal(Enumerable.Range(1, 71).Select(i => i.ToString(CultureInfo.InvariantCulture)), rows.Select(r => r[0]));
        Assert.Equal((@"\t", @"\\", @"\n", "s", " "), (rows[6][1], rows[13][1], rows[22][1], rows[7][1], rows[10][1])); // chars 7, 14, 23, 8, 11
        double Number(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        var losses = rows.Select(r => Number(r[2])).ToList();
        Assert.Equal(summary.GetProperty("loss_nats_per_char").GetDouble(), losses.Average(), 5);
        Assert.All(rows, r => Assert.Equal(Math.Exp(-Number(r[2])), Number(r[3]), 4)); // loss is written to 6 decimals
        Assert.All(rows, r => Assert.Contains(r[4], new[] { "0", "1" }));
        Assert.Equal(summary.GetProperty("accuracy").GetDouble(), rows.Count(r => r[4] == "1") / 71.0, 9);
        Assert.Single(Directory.GetFiles(Path.Combine(root, "out"))); // written through a temp file renamed over it: none left
    });

    [Fact]
    public void Eval_per_char_to_stdout_prints_the_table_alone_there_and_the_summary_on_stderr() => InTempFolder(root =>
    {
        var folder = TrainedOnEscapes(root);
        var text = Path.Combine(root, "held-out.txt");
        File.WriteAllText(text, EscapedLine + EscapedLine);
        var summary = Printed(["eval", folder, "--text", text, "--threads", "1"]);
        var (table, said) = PrintedAndSaid(["eval", folder, "--text", text, "--per-char", "-", "--threads", "1"]);
        Assert.Equal(summary, said);
        var lines = table.Split('\n');
        Assert.Equal("index\tchar\tloss_nats\tp\ttop1", lines[0]);
        Assert.Equal(EscapedLine.Length * 2 - 1 + 2, lines.Length); // header, 47 chars, the empty piece after the last \n
        Assert.StartsWith("47\t\\n\t", lines[^2]);
    });

    [Fact]
    public void Eval_per_char_refuses_a_folder_a_path_through_a_file_or_the_text_itself_and_a_refused_eval_leaves_an_old_table_as_it_was() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var text = Path.Combine(root, "held-out.txt");
        File.WriteAllText(text, TuiFixture.TinyText[..100]);
        AssertUserError(["eval", folder, "--text", text, "--per-char", root, "--threads", "1"],
            $"charrnn: --per-char '{root}' is a folder; give a file to write the per-char scores to (TSV), or - for stdout.");
        AssertUserError(["eval", folder, "--text", text, "--per-char", text, "--threads", "1"],
            $"charrnn: --per-char '{text}' is the text being scored (--text); give another file, or - for stdout.");
        // A file where the path needs a folder: said in --per-char's words before scoring, not as .NET's "The file … already exists" (exit 1) after.
        AssertUserError(["eval", folder, "--text", text, "--per-char", Path.Combine(text, "chars.tsv"), "--threads", "1"],
            $"charrnn: --per-char '{Path.Combine(text, "chars.tsv")}' cannot be written: '{text}' is a file, not a folder; give a file in a folder, or - for stdout.");
        Assert.Equal(TuiFixture.TinyText[..100], File.ReadAllText(text));
        // A folder that takes no file: said in --per-char's words (exit 2), as export says its --out, not as the temp file
        // beside it that .NET could not make ("Could not find file '/proc/.x.tsv.….tmp'", exit 1).
        AssertUserError(["eval", folder, "--text", text, "--per-char", "/proc/chars.tsv", "--threads", "1"],
            "charrnn: --per-char '/proc/chars.tsv' cannot be written in '/proc' (written as a temp file beside it, then renamed): ");

        var table = Path.Combine(root, "chars.tsv");
        File.WriteAllText(table, "an earlier table\n");
        var unknown = Path.Combine(root, "unknown.txt");
        File.WriteAllText(unknown, "the cat Zsat");
        AssertUserError(["eval", folder, "--text", unknown, "--per-char", table, "--threads", "1"], $"charrnn: --text '{unknown}' has 1 character(s)");
        Assert.Equal("an earlier table\n", File.ReadAllText(table));
    });

    [Fact]
    public void Eval_per_char_through_a_symlink_writes_the_table_into_its_target_and_keeps_the_link() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var text = Path.Combine(root, "held-out.txt");
        File.WriteAllText(text, TuiFixture.TinyText[..100]);
        // As cp and a shell's > do: the link's target (in another folder, named relative to the link) is written, the link stays.
        Directory.CreateDirectory(Path.Combine(root, "tables"));
        Directory.CreateDirectory(Path.Combine(root, "links"));
        var target = Path.Combine(root, "tables", "chars.tsv");
        File.WriteAllText(target, "an earlier table\n");
        var link = Path.Combine(root, "links", "latest.tsv");
        File.CreateSymbolicLink(link, Path.Combine("..", "tables", "chars.tsv"));

        Printed(["eval", folder, "--text", text, "--per-char", link, "--threads", "1"]);
        Assert.Equal(Path.Combine("..", "tables", "chars.tsv"), new FileInfo(link).LinkTarget);
        Assert.StartsWith("index\tchar\tloss_nats\tp\ttop1\n1\t", File.ReadAllText(target));
        Assert.Equal(["chars.tsv"], Directory.GetFiles(Path.Combine(root, "tables")).Select(Path.GetFileName)); // no temp file left
        Assert.Equal(["latest.tsv"], Directory.GetFileSystemEntries(Path.Combine(root, "links")).Select(Path.GetFileName));

        // A link to the text being scored is that text: refused, as the text named itself is, and the text is kept.
        var toText = Path.Combine(root, "links", "text.tsv");
        File.CreateSymbolicLink(toText, text);
        AssertUserError(["eval", folder, "--text", text, "--per-char", toText, "--threads", "1"],
            $"charrnn: --per-char '{toText}' is the text being scored (--text); give another file, or - for stdout.");
        Assert.Equal(TuiFixture.TinyText[..100], File.ReadAllText(text));
    });
}
