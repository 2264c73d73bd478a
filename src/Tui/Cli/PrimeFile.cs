using System.Text;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn generate --prime-file: the prime read from a file, or from stdin for "-". UTF-8 strictly (bytes
/// that are not would turn into U+FFFD, which the model would then be primed with); a byte-order mark at the
/// start is dropped, and a UTF-16 one is honoured, as StreamReader does (eval --text reads files alike). Returned exactly as it is,
/// a final line feed included (generate then reads its "\r\n" as the model's corpus was read: Corpus.WithLineEndingsAsLearned). At most <see cref="MaxChars"/> characters: one Feed takes the whole prime, and
/// its cost grows with it.
/// </summary>
public static class PrimeFile
{
    /// <summary>Characters (Unicode scalar values) at most: a few pages, far more than a recurrent model's state remembers.</summary>
    public const int MaxChars = 100_000;

    public static string Read(string file)
    {
        var name = file == "-" ? "- (stdin)" : $"'{file}'";
        if (file != "-" && Directory.Exists(file)) throw new ArgumentException($"--prime-file {name} is a folder; give a text file (UTF-8) to prime with, or - for stdin.");
        if (file != "-" && !File.Exists(file)) throw new ArgumentException($"--prime-file {name} does not exist; give a text file (UTF-8) to prime with, or - for stdin.");
        string text;
        bool more;
        using (var stream = file == "-" ? Console.OpenStandardInput() : File.OpenRead(file))
        using (var reader = new StreamReader(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true)))
        {
            // Two UTF-16 units a character at most: a text longer than that has too many characters, whatever they are.
            var buffer = new char[2 * MaxChars + 1];
            int read = 0, got;
            try
            {
                while (read < buffer.Length && (got = reader.Read(buffer, read, buffer.Length - read)) > 0) read += got;
            }
            catch (DecoderFallbackException)
            {
                throw new ArgumentException($"--prime-file {name} is not UTF-8 text; convert it (iconv -t UTF-8) or save it as UTF-8.");
            }
            text = new string(buffer, 0, read);
            more = read == buffer.Length;
        }
        if (text.Length == 0) throw new ArgumentException($"--prime-file {name} is empty; give a prime of 1 to {MaxChars:N0} characters, or leave it out to start from nothing.");
        if (more || text.EnumerateRunes().Count() > MaxChars)
            throw new ArgumentException($"--prime-file {name} has more than {MaxChars:N0} characters, the most a prime may have; give the part the model should continue (its end).");
        return text;
    }
}
