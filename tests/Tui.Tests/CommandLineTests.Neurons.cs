using System.Text.Json;

namespace CharRnn.Tui.Tests;

/// <summary>charrnn neurons: a trained model's hidden cells along a text.</summary>
public partial class CommandLineTests
{
    private const string NeuronsText = "the cat sat on the mat. the cat sat\non the mat.\t\\";

    [Fact]
    public void Neurons_lists_the_cells_that_track_a_feature_best_and_one_cells_activations_as_a_tsv_and_as_json() => InTempFolder(root =>
    {
        var (folder, corpus) = TrainedOneEpoch(root);
        File.AppendAllText(corpus, "\n\t\\"); // not in the model's corpus: the text below would be refused
        var text = Path.Combine(root, "text.txt");
        File.WriteAllText(text, "the cat sat on the mat. ");

        var ranking = Printed(["neurons", folder, "--text", text, "--top", "3", "--threads", "1"]).TrimEnd().Split('\n');
        Assert.Equal(4, ranking.Length);
        Assert.Matches($@"^24 chars through {System.Text.RegularExpressions.Regex.Escape(Path.Combine(folder, "best.ckpt"))} \(stateful-gru\), layer 0 of 0-0, h, 8 cells: the 3 that track a text feature best", ranking[0]);
        Assert.All(ranking[1..], line => Assert.Matches(@"^cell [0-7]  r=[+-][01]\.\d\d  .+  mean [+-]?\d\.\d\d  sd \d\.\d\d$", line));
        // One cell is named as one ("the 1 that track" read as a typo).
        Assert.Contains(" 8 cells: the cell that tracks a text feature best (", Printed(["neurons", folder, "--text", text, "--top", "1", "--threads", "1"]).Split('\n')[0]);

        using var ranked = JsonDocument.Parse(Printed(["neurons", folder, "--text", text, "--top", "3", "--json", "--threads", "1"]));
        var top = ranked.RootElement.GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(3, top.Count);
        Assert.Equal(8, ranked.RootElement.GetProperty("cells").GetInt32());
        Assert.Equal("h", ranked.RootElement.GetProperty("state").GetString());
        // The lines are the JSON's, in its order, by |r| falling.
        for (int i = 0; i < 3; i++)
        {
            Assert.StartsWith($"cell {top[i].GetProperty("cell").GetInt32()}  r={top[i].GetProperty("r").GetDouble().ToString("+0.00;-0.00; 0.00", System.Globalization.CultureInfo.InvariantCulture)}  {top[i].GetProperty("feature").GetString()}", ranking[i + 1]);
            if (i > 0) Assert.True(Math.Abs(top[i - 1].GetProperty("r").GetDouble()) >= Math.Abs(top[i].GetProperty("r").GetDouble()));
        }

        // Redirected, --cell is a TSV: a header, one row per char, escaped; the activations are the JSON's.
        var rows = Printed(["neurons", folder, "--prime", "the mat.", "--cell", "5", "--threads", "1"]).TrimEnd('\n').Split('\n');
        Assert.Equal("index\tchar\tactivation", rows[0]);
        Assert.Equal(9, rows.Length);
        Assert.Equal(["0\tt", "1\th", "2\te", "3\t ", "4\tm", "5\ta", "6\tt", "7\t."], rows[1..].Select(r => string.Join('\t', r.Split('\t')[..2])));
        Assert.All(rows[1..], r => Assert.Matches(@"^\d+\t.\t-?[01]\.\d{4}$", r));
        using var cell = JsonDocument.Parse(Printed(["neurons", folder, "--prime", "the mat.", "--cell", "5", "--json", "--threads", "1"]));
        Assert.Equal(5, cell.RootElement.GetProperty("cell").GetInt32());
        var activations = cell.RootElement.GetProperty("activations").EnumerateArray().ToList();
        Assert.Equal(8, activations.Count);
        for (int i = 0; i < 8; i++)
            Assert.Equal(rows[i + 1].Split('\t')[2], activations[i].GetProperty("activation").GetSingle().ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture));

        // A model whose corpus has newline, tab and backslash: they are escaped, one row each.
        var escaped = Path.Combine(root, "escaped");
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-rnn", "--corpus", corpus, "--out", escaped, "--epochs", "1", "--n-hidden", "4", "--n-fac", "4",
            "--bs", "4", "--sample-chars", "0", "--threads", "1"]));
        var special = Printed(["neurons", escaped, "--prime", "a\n\t\\c", "--cell", "0", "--threads", "1"]).TrimEnd('\n').Split('\n');
        Assert.Equal(["0\ta", "1\t\\n", "2\t\\t", "3\t\\\\", "4\tc"], special[1..].Select(r => string.Join('\t', r.Split('\t')[..2])));
        // It counts a text's chars as the model reads them: a "\r\n" is one char, not two.
        var windows = Path.Combine(root, "windows.txt");
        File.WriteAllText(windows, "the cat\r\nthe mat");
        var (whole, saidOfWhole) = PrintedAndSaid(["neurons", escaped, "--text", windows, "--max-chars", "15", "--cell", "0", "--threads", "1"]);
        Assert.Equal(16, whole.TrimEnd('\n').Split('\n').Length);
        Assert.DoesNotContain("feeding the first", saidOfWhole);
        var (cutWindows, saidOfCut) = PrintedAndSaid(["neurons", escaped, "--text", windows, "--max-chars", "8", "--cell", "0", "--threads", "1"]);
        Assert.Equal(9, cutWindows.TrimEnd('\n').Split('\n').Length);
        Assert.Contains("feeding the first 8 of 15 chars", saidOfCut);
    });

    [Fact]
    public void Neurons_refuses_a_windowed_model_an_unknown_char_a_missing_cell_and_a_text_given_twice_or_not_at_all() => InTempFolder(root =>
    {
        var (folder, corpus) = TrainedOneEpoch(root);
        var windowed = Path.Combine(root, "char3");
        Assert.Equal(0, Quietly(["train", "--arch", "char3", "--corpus", corpus, "--out", windowed, "--epochs", "1", "--n-hidden", "4", "--n-fac", "4",
            "--bs", "4", "--sample-chars", "0", "--threads", "1"]));
        AssertUserError(["neurons", windowed, "--prime", "the cat", "--threads", "1"],
            "charrnn: 'char3' reads a window of the last few chars afresh at each step and carries no hidden state from char to char, so it has no cells to trace. " +
            "Models that do: stateful-rnn, stateful-rnn-cell, stateful-gru, stateful-gru-cell, stateful-lstm.");
        AssertUserError(["neurons", folder, "--prime", "the Zoo", "--threads", "1"],
            "charrnn: --prime has 1 character(s) the model's vocabulary does not know, 1 time(s) in all: 'Z' (U+005A). Nothing was traced");
        AssertUserError(["neurons", folder, "--prime", "the cat", "--cell", "8", "--threads", "1"], "charrnn: cell 8 does not exist: the layer has 8 cells, 0 to 7.");
        AssertUserError(["neurons", folder, "--prime", "the cat", "--layer", "1", "--threads", "1"], "charrnn: layer 1 does not exist: the model has 1 layer(s), 0 to 0");
        AssertUserError(["neurons", folder, "--threads", "1"], "charrnn: Give the text to feed the model: --text FILE (- for stdin) or --prime TEXT, one of them.");
        AssertUserError(["neurons", folder, "--prime", "the", "--text", corpus, "--threads", "1"], "charrnn: --text and --prime both give the text to feed the model; give one of them.");
        AssertUserError(["neurons", folder, "--prime", "the", "--max-chars", "0", "--threads", "1"], "charrnn: --max-chars 0 is not allowed; give 1 to 100000. (see charrnn neurons --help)");
        AssertUserError(["neurons", folder, "--text", Path.Combine(root, "none.txt"), "--threads", "1"], $"charrnn: --text '{Path.Combine(root, "none.txt")}' does not exist");

        // --max-chars feeds the text's start, and says so.
        var (cut, said) = PrintedAndSaid(["neurons", folder, "--prime", "the cat sat", "--max-chars", "3", "--cell", "0", "--threads", "1"]);
        Assert.Equal(4, cut.TrimEnd('\n').Split('\n').Length);
        Assert.Contains("charrnn: feeding the first 3 of 11 chars of --prime (--max-chars)", said);
    });

    [Fact]
    public void Neurons_json_writes_a_NaN_or_infinite_figure_as_null_not_a_throw()
    {
        var about = new Cli.TracedModel("m/best.ckpt", "stateful-gru", 0, 1, 8, 3);
        var activations = System.Text.Json.JsonSerializer.Serialize(Cli.CellActivationText.Json(about, 2, ["a", "b", "c"], [0.25f, float.NaN, float.PositiveInfinity]));
        using (var json = System.Text.Json.JsonDocument.Parse(activations))
        {
            var rows = json.RootElement.GetProperty("activations").EnumerateArray().Select(r => r.GetProperty("activation")).ToList();
            Assert.Equal(0.25, rows[0].GetDouble());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, rows[1].ValueKind);
            Assert.Equal(System.Text.Json.JsonValueKind.Null, rows[2].ValueKind);
        }
        var ranking = System.Text.Json.JsonSerializer.Serialize(Cli.CellActivationText.Json(about, [new Engine.Inspection.RankedCell(1, "is a letter", double.NaN, double.NaN, double.NaN)]));
        using (var json = System.Text.Json.JsonDocument.Parse(ranking))
        {
            var top = json.RootElement.GetProperty("top")[0];
            Assert.Equal(1, top.GetProperty("cell").GetInt32());
            Assert.All(new[] { "r", "mean", "sd" }, name => Assert.Equal(System.Text.Json.JsonValueKind.Null, top.GetProperty(name).ValueKind));
        }
    }

    [Fact]
    public void Neurons_on_a_terminal_colours_each_char_from_blue_through_white_to_red_clamped_to_the_tanh_range()
    {
        Assert.Equal((60, 110, 230), Cli.CellActivationText.Colour(-1));
        Assert.Equal((255, 255, 255), Cli.CellActivationText.Colour(0));
        Assert.Equal((230, 60, 50), Cli.CellActivationText.Colour(1));
        Assert.Equal(Cli.CellActivationText.Colour(1), Cli.CellActivationText.Colour(3.5f));
        Assert.Equal(Cli.CellActivationText.Colour(-1), Cli.CellActivationText.Colour(-2));
        Assert.Equal((242, 158, 152), Cli.CellActivationText.Colour(0.5f)); // halfway to red (242.5 and 152.5 rounded to even)

        var output = new StringWriter();
        var about = new Cli.TracedModel("m/best.ckpt", "stateful-lstm", 1, 2, 16, 3);
        Cli.CellActivationText.WriteColoured(output, about, 4, ["a", "\n", "b"], [-1f, 0f, 1f]);
        var lines = output.ToString().Split('\n');
        Assert.Equal("3 chars through m/best.ckpt (stateful-lstm), layer 1 of 0-1, h (the LSTM's output, not its cell memory c), 16 cells: cell 4 after each char, blue -1, white 0, red +1", lines[0]);
        // The newline shows as a coloured space, then ends the line, as the text does.
        Assert.Equal("\u001b[48;2;60;110;230m\u001b[30ma\u001b[0m\u001b[48;2;255;255;255m\u001b[30m \u001b[0m", lines[1]);
        Assert.Equal("\u001b[48;2;230;60;50m\u001b[30mb\u001b[0m", lines[2]);
        Assert.StartsWith("legend: ", lines[3]);
    }

    [Theory]
    [InlineData("COLORTERM=truecolor TERM=xterm-256color", 1 << 24)]
    [InlineData("TERM=xterm-256color", 256)]
    [InlineData("TERM=screen-256color", 256)]
    [InlineData("TERM=xterm", 16)]
    [InlineData("TERM=xterm CHARRNN_COLORS=256", 256)]
    [InlineData("COLORTERM=truecolor CHARRNN_COLORS=16", 16)]
    [InlineData("TERM=xterm CHARRNN_COLORS=truecolor", 1 << 24)]
    // no-color.org: NO_COLOR set and not empty means no colour (the TSV a pipe gets); $CHARRNN_COLORS, asked for by name, still wins.
    [InlineData("COLORTERM=truecolor TERM=xterm-256color NO_COLOR=1", 0)]
    [InlineData("TERM=xterm NO_COLOR=1", 0)]
    [InlineData("TERM=xterm-256color NO_COLOR=", 256)]
    [InlineData("TERM=xterm NO_COLOR=1 CHARRNN_COLORS=256", 256)]
    [InlineData("TERM=xterm NO_COLOR=1 CHARRNN_COLORS=16", 16)]
    public void Neurons_colours_a_cell_in_the_colours_the_terminal_says_it_shows(string environment, int colours)
    {
        var variables = environment.Split(' ').Select(v => v.Split('=')).ToDictionary(v => v[0], v => v[1]);
        Assert.Equal(colours, Cli.CellActivationText.ColoursOf(name => variables.GetValueOrDefault(name), windows: false));
        if (colours == Cli.CellActivationText.NoColour) return; // neurons writes the table, as to a pipe

        var output = new StringWriter();
        Cli.CellActivationText.WriteColoured(output, new Cli.TracedModel("m", "stateful-lstm", 0, 1, 4, 2), 0, ["a", "b"], [-1f, 0.1f], colours);
        var text = output.ToString().Split('\n')[1];
        Assert.Equal(colours switch
        {
            1 << 24 => "\u001b[48;2;60;110;230m\u001b[30ma\u001b[0m\u001b[48;2;252;236;234m\u001b[30mb\u001b[0m",
            256 => "\u001b[48;5;62m\u001b[30ma\u001b[0m\u001b[48;5;230m\u001b[30mb\u001b[0m", // xterm's cube: (95,95,215) and (255,255,215), the nearest
            _ => "\u001b[44m\u001b[97ma\u001b[0m\u001b[107m\u001b[30mb\u001b[0m",
        }, text);
    }
}
