namespace CharRnn.Tui.Cli;

/// <summary>
/// Where an output file (export --out, eval --per-char) would go, for saying why it cannot: a file where its path needs
/// a folder ('notes.txt/out.tsv') makes .NET say "The file '…' already exists", which names no flag.
/// </summary>
public static class OutputFolder
{
    /// <summary>The folder the file goes in, or the nearest path above it that exists (the folders below it are made).</summary>
    public static string NearestExisting(string file)
    {
        var existing = Path.GetDirectoryName(Path.GetFullPath(file))!;
        while (!Path.Exists(existing) && Path.GetDirectoryName(existing) is { } parent) existing = parent;
        return existing;
    }
}
