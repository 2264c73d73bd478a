using System.Text;
using CharRnn.Protos.V1;

namespace CharRnn.Tui.ViewModels;

/// <summary>
/// The text queued for typing, a rune at a time, each with how surprised the model was by it (its loss in
/// nats) once an Interact prediction's typed_scores say. Edits (typing on, a reset retype after Backspace, another
/// model) keep it aligned with the text: a retype keeps the scores of the text it leaves as it was (the same chars
/// after the same reset score the same) until the retype's own come. Not thread-safe: InteractiveTyping locks.
/// </summary>
public sealed class TypedScores
{
    /// <summary>What one request fed: the model, the whole text after it, where its chars start (in runes) and the chars as typed.</summary>
    public sealed record Sent(string Model, string Whole, int From, string Chars);

    private readonly List<Rune> _text = [];
    private readonly List<double?> _losses = [];
    private string? _model;

    /// <summary>The model the text was last queued for (null before any).</summary>
    public string? Model => _model;

    /// <summary>Text queued for <paramref name="model"/>: appended, or with <paramref name="reset"/> the whole text again.</summary>
    public void Edit(string model, string text, bool reset)
    {
        if (model != _model) for (var i = 0; i < _losses.Count; i++) _losses[i] = null; // another model's surprise is not this one's
        _model = model;
        var runes = text.EnumerateRunes().ToList();
        if (reset)
        {
            var same = 0;
            while (same < runes.Count && same < _text.Count && runes[same] == _text[same]) same++;
            _text.RemoveRange(same, _text.Count - same);
            _losses.RemoveRange(same, _losses.Count - same);
            runes = runes[same..];
        }
        _text.AddRange(runes);
        _losses.AddRange(runes.Select(_ => (double?)null));
    }

    /// <summary>
    /// Takes a message's typed_scores, one per char fed by the requests <paramref name="sent"/> (typed_scores_from's through
    /// request_index's, in order): matched to the chars they sent in order, a char the client or the server left out getting
    /// none. Ignored once the text they were of has changed (a Backspace since), or if the requests are not one run of text.
    /// </summary>
    public void Apply(IReadOnlyList<Sent> sent, IReadOnlyList<CharScore> scores)
    {
        if (sent.Count == 0 || sent[^1].Model != _model || !StartsWith(sent[^1].Whole)) return;
        for (var i = 1; i < sent.Count; i++)
            if (sent[i].From != sent[i - 1].From + sent[i - 1].Chars.EnumerateRunes().Count()) return; // a gap: not the text these scores are of
        int at = sent[0].From, next = 0;
        foreach (var rune in sent.SelectMany(s => s.Chars.EnumerateRunes()))
        {
            if (next < scores.Count && (scores[next].Character == rune.ToString() || scores[next].Character == Rune.ToLowerInvariant(rune).ToString()))
                _losses[at] = scores[next++].Loss;
            at++;
        }
    }

    /// <summary>The loss of each rune of <paramref name="typed"/>, while it matches the text queued; null where none is known.</summary>
    public double?[] LossesFor(string typed)
    {
        var losses = new List<double?>();
        var aligned = true; // past the first char that differs, the text queued is another
        foreach (var rune in typed.EnumerateRunes())
        {
            aligned = aligned && losses.Count < _text.Count && _text[losses.Count] == rune;
            losses.Add(aligned ? _losses[losses.Count] : null);
        }
        return [.. losses];
    }

    private bool StartsWith(string whole)
    {
        var i = 0;
        foreach (var rune in whole.EnumerateRunes())
            if (i >= _text.Count || _text[i++] != rune) return false;
        return true;
    }
}
