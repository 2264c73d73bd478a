using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace CharRnn.Tui.Cli;

/// <summary>
/// The JSON every verb's --json prints: System.Text.Json's own, but a figure that is not finite (a perplexity past what a
/// double holds, a loss gone NaN) is written as null. JSON has no NaN or Infinity, and the serializer throws on them,
/// which would end a scored run in an error instead of its figures. Text is written as it reads ("l'été", not
/// "l\u0027\u00E9t\u00E9"): stdout is no HTML page, so the default encoder's escaping of quotes, &lt;, &amp; and every
/// non-ASCII char only hides a French model's vocabulary and names from whoever reads the output; control chars are
/// still escaped. A char beyond U+FFFF (an emoji) is written as it reads too: the relaxed encoder writes its \u surrogate
/// pair ("\uD83D\uDE00", valid JSON, but no one reads it as 😀), which <see cref="Serialize"/> puts back as the char.
/// </summary>
public static partial class ScriptJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new FiniteDouble(), new FiniteSingle() },
    };

    public static string Serialize<T>(T value) =>
        SurrogatePairEscape().Replace(JsonSerializer.Serialize(value, Options), m => m.Groups["before"].Value + (char)Convert.ToInt32(m.Groups["high"].Value, 16) + (char)Convert.ToInt32(m.Groups["low"].Value, 16));

    /// <summary>A \u escape of a high surrogate and one of a low surrogate: not a backslash written as \\ and then "uD83D" (an even number of backslashes before it).</summary>
    [GeneratedRegex(@"(?<!\\)(?<before>(?:\\\\)*)\\u(?<high>D[89AB][0-9A-F]{2})\\u(?<low>D[C-F][0-9A-F]{2})", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex SurrogatePairEscape();

    /// <summary>A time as every --json writes one: ISO 8601 in UTC, to the second, "2026-12-07T02:49:58Z".</summary>
    public static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private sealed class FiniteDouble : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }

    private sealed class FiniteSingle : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetSingle();

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
        {
            if (float.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }
}
