using System.Globalization;
using System.Text;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Storage;
using CharRnn.Engine.Text;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn eval --per-char: each scored char's score as tab-separated lines under a header (index, char, loss_nats,
/// p, top1), to a file written atomically or to stdout ("-"). The char is escaped so each line stays one line of
/// five fields: a backslash as \\, a line break as \n, a tab as \t, a carriage return as \r, other control chars as
/// \uXXXX (as <see cref="Echo.Visible"/> writes them).
/// </summary>
public static class PerCharTable
{
    public const string Header = "index\tchar\tloss_nats\tp\ttop1";

    /// <summary>
    /// Refuses, before anything is scored, an OUT that could not be written or would overwrite the text being scored.
    /// </summary>
    public static void Check(string output, string textFile)
    {
        if (output == "-") return;
        if (Directory.Exists(output)) throw new ArgumentException($"--per-char '{output}' is a folder; give a file to write the per-char scores to (TSV), or - for stdout.");
        if (File.Exists(textFile) && AtomicFile.ThroughLink(output) == AtomicFile.ThroughLink(textFile))
            throw new ArgumentException($"--per-char '{output}' is the text being scored (--text); give another file, or - for stdout.");
        if (OutputFolder.NearestExisting(output) is var existing && File.Exists(existing))
            throw new ArgumentException($"--per-char '{output}' cannot be written: '{existing}' is a file, not a folder; give a file in a folder, or - for stdout.");
    }

    public static void Write(string output, IReadOnlyList<CharScore> chars)
    {
        if (output == "-")
        {
            WriteTo(Console.Out, chars);
            Console.Out.Flush();
            return;
        }
        var target = AtomicFile.ThroughLink(output); // a link stays a link, its target written
        try
        {
            AtomicFile.Write(target, stream =>
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
                WriteTo(writer, chars);
            });
        }
        catch (Exception e) when (OutputFolder.IsPlaceProblem(e)) // a full disk stays a failed run (exit 1)
        {
            throw OutputFolder.CannotWrite("--per-char", output, target, e, ", or - for stdout");
        }
    }

    private static void WriteTo(TextWriter writer, IReadOnlyList<CharScore> chars)
    {
        writer.Write(Header + "\n"); // \n on every platform: a TSV's lines
        foreach (var c in chars)
            writer.Write(string.Create(CultureInfo.InvariantCulture,
                $"{c.Position}\t{Escaped(c.Char)}\t{c.Loss:0.000000}\t{c.Probability:G6}\t{(c.Top1 ? 1 : 0)}\n"));
    }

    /// <summary>The char as one TSV field: a backslash doubled, control chars written out.</summary>
    public static string Escaped(string character) =>
        string.Concat(character.EnumerateRunes().Select(r => r.Value == '\\' ? "\\\\" : Echo.Visible(r)));
}
