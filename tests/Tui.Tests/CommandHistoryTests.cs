using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>CommandHistory: the command line's history, in memory and in its file.</summary>
public class CommandHistoryTests
{
    [Fact]
    public void History_walks_back_and_forth_like_a_shell()
    {
        var h = new CommandHistory();
        h.Add("models");
        h.Add("use lstm");
        h.Add("use lstm");
        h.Add("gen 10");
        Assert.Equal(["models", "use lstm", "gen 10"], h.Lines);
        Assert.Equal("gen 10", h.Previous());
        Assert.Equal("use lstm", h.Previous());
        Assert.Equal("models", h.Previous());
        Assert.Equal("models", h.Previous());
        Assert.Equal("use lstm", h.Next());
        Assert.Equal("gen 10", h.Next());
        Assert.Equal("", h.Next());
        Assert.Null(h.Next());

        // A half-typed line is not lost by looking back.
        Assert.Equal("gen 10", h.Previous("gen 400 \"for"));
        Assert.Equal("use lstm", h.Previous("ignored: not at the newest"));
        Assert.Equal("gen 10", h.Next());
        Assert.Equal("gen 400 \"for", h.Next());
    }

    [Fact]
    public void History_with_a_file_is_kept_across_runs_and_cut_back_to_its_newest_lines()
    {
        var file = Path.Combine(Path.GetTempPath(), "charrnn-history-" + Guid.NewGuid().ToString("N")[..8], "history");
        try
        {
            var first = new CommandHistory(capacity: 3, file);
            foreach (var line in new[] { "models", "use lstm", "use lstm", "gen 10" }) first.Add(line);
            var next = new CommandHistory(capacity: 3, file); // the next run
            Assert.Equal(["models", "use lstm", "gen 10"], next.Lines);
            Assert.Equal("gen 10", next.Previous());
            foreach (var line in new[] { "a", "b", "c", "d" }) next.Add(line);
            Assert.True(File.ReadAllLines(file).Length <= 6, "the file grows without bound");
            Assert.Equal(["b", "c", "d"], new CommandHistory(capacity: 3, file).Lines);

            // Many short runs, each adding fewer lines than are kept, still see the file cut back.
            for (var run = 0; run < 5; run++) new CommandHistory(capacity: 3, file).Add($"run {run}");
            Assert.True(File.ReadAllLines(file).Length <= 6, "short runs grow the file without bound");
            // Two open at once: a cut by one keeps what the other appended meanwhile.
            File.Delete(file);
            var left = new CommandHistory(capacity: 3, file);
            var right = new CommandHistory(capacity: 3, file);
            foreach (var line in new[] { "l1", "l2", "l3", "l4" }) left.Add(line);
            right.Add("from the right");
            foreach (var line in new[] { "l5", "l6" }) left.Add(line); // the sixth line: left cuts the file back to three
            Assert.Equal(["from the right", "l5", "l6"], File.ReadAllLines(file));
        }
        finally { Directory.Delete(Path.GetDirectoryName(file)!, true); }
    }
}
