using System.Text;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Errors;

namespace CharRnn.ModelServer.Corpora;

/// <summary>
/// Checks an uploaded corpus's bytes as they arrive, in pieces split anywhere: strict UTF-8 (the offset of the
/// first bad byte), at most the size limit, not empty (nor a BOM alone), and no NUL (<see cref="NulInCorpus"/>: a
/// UTF-16 file without its byte-order mark is valid UTF-8 with a NUL at every other byte).
/// Checked while streaming, so a bad upload is refused at its first bad piece, not after all of it was stored.
/// </summary>
internal sealed class UploadedText(string name, long maxBytes)
{
    private readonly Decoder _decoder = new UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
    private char[] _chars = [];
    private const int StartBytes = NulInCorpus.SampleLength; // a byte-order mark's, and where NULs fall (NotUtf8)
    private readonly List<byte> _start = new(StartBytes);
    private bool _first = true;
    private readonly NulInCorpus _nul = new();
    // Nothing but a leading BOM (or nothing at all) so far: empty, not "only NUL".
    private bool _onlyBom = true;

    public long Bytes { get; private set; }

    public void Add(ReadOnlySpan<byte> piece)
    {
        if (Bytes + piece.Length > maxBytes)
            throw Refused($"Corpus '{name}' is larger than this server stores: more than {maxBytes:N0} bytes (limit max_corpus_bytes, charrnn serve --max-corpus-mb). Nothing was stored.");
        Decode(piece, flush: false);
        Bytes += piece.Length;
    }

    /// <summary>The end of the text: a character cut short at the end is invalid, and empty text is refused.</summary>
    public void Finish()
    {
        Decode([], flush: true);
        if (_onlyBom)
            throw Refused($"Corpus '{name}' is empty; a corpus needs some text to learn from. Nothing was stored.");
        RefuseAnyNul();
    }

    private void RefuseAnyNul()
    {
        if (_nul.Why() is { } why) throw Refused($"Corpus '{name}' {why}. Nothing was stored.");
    }

    /// <summary>Every fault here is in the text the upload's data messages carry: BadRequest names that field.</summary>
    private static ServerException Refused(string message) => ServerException.Invalid(message, field: "data");

    /// <summary>The text's first bytes, where a byte-order mark would be, from those kept and this piece (NotUtf8's).</summary>
    private byte[] Start(ReadOnlySpan<byte> piece) => [.. _start, .. piece[..Math.Min(piece.Length, StartBytes - _start.Count)]];

    private void Decode(ReadOnlySpan<byte> piece, bool flush)
    {
        var needed = piece.Length + 4;
        if (_chars.Length < needed) _chars = new char[needed];
        int count;
        try { count = _decoder.GetChars(piece, _chars, flush); }
        catch (DecoderFallbackException e)
        {
            throw Refused($"Corpus '{name}' {NotUtf8.Why(Start(piece), Math.Max(0, Bytes + e.Index))}send UTF-8 text. Nothing was stored.");
        }
        var bom = _first && count > 0 && _chars[0] == '\uFEFF' ? 1 : 0; // dropped when the corpus is read
        if (count > bom) _onlyBom = false;
        _nul.Add(_chars.AsSpan(bom, count - bom));
        if (count > 0) _first = false;
        if (_start.Count < StartBytes) _start.AddRange(Start(piece)[_start.Count..]);
        if (_nul.Decided) RefuseAnyNul(); // at the piece it is in, not after the rest arrived
    }
}
