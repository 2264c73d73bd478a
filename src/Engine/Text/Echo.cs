using System.Text;

namespace CharRnn.Engine.Text;

/// <summary>
/// A value someone sent, as an error message may quote it: at most <see cref="MaxLength"/> characters
/// (a longer one ends in "…"), with control characters written out (\n, \0, \u001b), so a 20,000-character
/// id cannot swell a gRPC status past the header limit and a newline in a name is seen, not obeyed.
/// </summary>
public static class Echo
{
    public const int MaxLength = 80;

    public static string Of(string? value)
    {
        if (value == null) return "";
        var shown = new StringBuilder();
        foreach (var rune in value.EnumerateRunes())
        {
            if (shown.Length >= MaxLength) return shown.Append('…').ToString();
            shown.Append(Visible(rune));
        }
        return shown.ToString();
    }

    /// <summary>One character as it is shown: itself, or a control character (and a line or paragraph separator) written out.</summary>
    public static string Visible(Rune rune) => rune.Value switch
    {
        '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", 0 => "\\0",
        _ when Rune.IsControl(rune) || rune.Value is 0x2028 or 0x2029 => $"\\u{rune.Value:x4}",
        _ => rune.ToString(),
    };
}
