using System.Text;
using CharRnn.Engine.Text;

namespace CharRnn.Tui.Cli;

/// <summary>
/// A text file read whole for a verb to use (eval's --text, neurons' --text, - for stdin): strict UTF-8, as a
/// corpus is read, since bytes that are not would come in as U+FFFD and be scored or fed as a character the
/// file does not have; a byte-order mark at its start is dropped (a UTF-16 one honoured), as StreamReader does.
/// A file larger than one string can hold is refused before it is read (<see cref="Corpus.MaxFileBytes"/>).
/// </summary>
public static class Utf8TextFile
{
    /// <param name="file">The path, or - for stdin.</param>
    /// <param name="name">The file as a refusal names it (--text 'notes.txt').</param>
    public static string Read(string file, string name)
    {
        if (file != "-" && Corpus.TooLarge(file) is { } why) throw new ArgumentException($"{name} {why}.");
        using var stream = file == "-" ? Console.OpenStandardInput() : File.OpenRead(file);
        using var reader = new StreamReader(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        try { return reader.ReadToEnd(); }
        catch (DecoderFallbackException) { throw new ArgumentException($"{name} is not UTF-8 text; convert it (iconv -t UTF-8) or save it as UTF-8."); }
    }
}
