using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>CommandCatalog: the commands that help, F1 and Tab completion read.</summary>
public class CommandCatalogTests
{
    [Fact]
    public void Every_command_has_help()
    {
        Assert.All(CommandCatalog.All, c => Assert.False(string.IsNullOrWhiteSpace(c.Summary)));
        Assert.Equal(CommandCatalog.All.Count, CommandCatalog.All.Select(c => c.Verb).Distinct().Count());
        // Every verb the runner executes is in the catalogue that help, F1 and Tab completion read.
        string[] executed = ["help", "archs", "arch", "models", "corpora", "train", "resume", "jobs", "attach", "detach", "stop", "use", "gen",
            "feed", "fork", "back", "reset", "set", "compare", "delete", "share", "status", "quit"];
        Assert.All(executed, verb => Assert.NotNull(CommandCatalog.Find(verb)));
    }
}
