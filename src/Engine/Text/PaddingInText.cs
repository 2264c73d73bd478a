using System.Text;

namespace CharRnn.Engine.Text;

/// <summary>
/// NUL is in every vocabulary as padding (index 0), not as text a model reads: it encodes without error, so what feeds
/// a model a text (the server's prime, Feed and Interact; charrnn generate's prime; a text charrnn neurons traces,
/// <see cref="Inspection.HiddenStateTrace.Record"/>) refuses it in these words, and
/// <see cref="KnownText"/> (--skip-unknown, UNKNOWN_CHARS_SKIP) leaves it out. One rule for the server and the CLI.
/// </summary>
public static class PaddingInText
{
    public const char Padding = '\0';

    /// <summary>"contains control character (U+0000), which the model's vocabulary holds as padding, not as text the model reads".</summary>
    public static readonly string Problem = $"contains {Vocabulary.Describe(new Rune(Padding))}, which the model's vocabulary holds as padding, not as text the model reads";

    public static bool In(string text) => text.Contains(Padding);
}
