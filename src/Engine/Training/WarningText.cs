using System.Globalization;
using System.Runtime.CompilerServices;

namespace CharRnn.Engine.Training;

/// <summary>
/// Reads an interpolated string as a <see cref="TrainingWarning"/>'s parts: a <see cref="WarningPart"/> in it stays a
/// setting to be spelt by the caller; everything else becomes words (numbers written invariantly).
/// </summary>
[InterpolatedStringHandler]
public readonly struct WarningText
{
    private readonly List<WarningPart> parts;

    public WarningText(int literalLength, int formattedCount) => parts = new List<WarningPart>(formattedCount * 2 + 1);

    public IReadOnlyList<WarningPart> Parts => parts;

    public void AppendLiteral(string words)
    {
        if (words.Length == 0) return;
        // Words beside words are one part: a warning's parts alternate, so a client joins no more than it must.
        if (parts.Count > 0 && parts[^1].Setting == null) parts[^1] = WarningPart.Text(parts[^1].Words + words);
        else parts.Add(WarningPart.Text(words));
    }

    public void AppendFormatted(WarningPart part)
    {
        if (part.Setting == null) AppendLiteral(part.Words);
        else parts.Add(part);
    }

    public void AppendFormatted<T>(T value) => AppendLiteral(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");

    public void AppendFormatted<T>(T value, string format) where T : IFormattable => AppendLiteral(value.ToString(format, CultureInfo.InvariantCulture));
}
