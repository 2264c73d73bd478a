using System.Globalization;
using System.Text;

namespace CharRnn.Bench;

/// <summary>bench/results.md: sections of tables, printed to the console as they are written.</summary>
public sealed class Report
{
    private readonly StringBuilder _text = new();

    public void Heading(string title)
    {
        Line($"\n## {title}\n");
    }

    public void Paragraph(string text) => Line(text + "\n");

    public void Table(string[] header, IEnumerable<string[]> rows)
    {
        Line("| " + string.Join(" | ", header) + " |");
        Line("|" + string.Concat(header.Select(_ => " --- |")));
        foreach (var row in rows) Line("| " + string.Join(" | ", row) + " |");
        Line("");
    }

    public void Line(string text)
    {
        _text.AppendLine(text);
        Console.WriteLine(text);
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        // A run of tens of minutes must not lose its results to a crash mid-write: the old file or the new one.
        CharRnn.Engine.Storage.AtomicFile.WriteAllBytes(path, new System.Text.UTF8Encoding(false).GetBytes(_text.ToString()));
    }

    public static string Ratio(double a, double b) =>
        double.IsFinite(a) && double.IsFinite(b) && b > 0 ? (a / b).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "-";
}
