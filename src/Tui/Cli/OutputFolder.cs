using CharRnn.Engine.Storage;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Where an output file (export --out, eval --per-char) would go, and why it cannot: a file where its path needs
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

    /// <summary>
    /// The refusal (exit 2) of an output file whose place cannot take it, in its flag's terms: .NET names the temp
    /// file beside it that could not be made. <paramref name="target"/> is the file written (a link's target).
    /// </summary>
    public static ArgumentException CannotWrite(string flag, string file, string target, Exception e, string orElse = "")
    {
        var existing = NearestExisting(target);
        return new ArgumentException(File.Exists(existing)
            ? $"{flag} '{file}' cannot be written: '{existing}' is a file, not a folder; give a file in a folder you may write{orElse}."
            : $"{flag} '{file}' cannot be written in '{existing}' (written as a temp file beside it, then renamed): {e.Message} Give a file in a folder you may write{orElse}.");
    }

    /// <summary>A write error that says something of the path given, not of the disk (full, failing: <see cref="DiskFault"/>), which is a failed run.</summary>
    public static bool IsPlaceProblem(Exception e) => e is IOException or UnauthorizedAccessException && !DiskFault.Is(e);
}
