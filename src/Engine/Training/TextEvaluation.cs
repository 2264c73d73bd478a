using CharRnn.Engine.Batching;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>
/// How well a trained model predicts a whole text (`charrnn eval`): the text batched and run as validation
/// data is (<see cref="ValidationPass"/>), not stepped a char at a time. Which chars get scored follows the
/// model's layout, as in validation: a stream model reads the text as up to bs parallel streams of at least
/// <see cref="MinStreamChars"/> chars, each from a zero state and starting on the char the one before it ends on
/// (read there only as input), the remainder of under bs chars past the last stream's end read on from that stream's
/// state, so it scores every char but the text's first; a next-char windowed model scores every
/// char after the first window, each from the window before it; a sequence model (seqrnn) reads
/// non-overlapping windows and scores each window's chars shifted by one, as it trained.
/// </summary>
public static class TextEvaluation
{
    /// <summary>A stream is not cut shorter than this: each starts from a zero state, whose first chars score worse.</summary>
    public const int MinStreamChars = 1024;

    /// <summary>
    /// Scores <paramref name="text"/> (lowercased first if the model was trained so). A character the
    /// vocabulary does not know is an <see cref="Text.UnknownCharactersException"/> naming them (a model
    /// trained with min_freq above 1 scores them as its unknown symbol instead, as validation does).
    /// With <paramref name="perChar"/> the score holds each scored char's own (<see cref="TextScore.Chars"/>, in text
    /// order, positions in the lowercased text), found by running the same batches over the text's positions.
    /// </summary>
    public static TextScore Evaluate(TrainedModel trained, string text, Device device, bool perChar = false) =>
        Evaluate(trained.Model, trained.Architecture, trained.HyperParameters, trained.Vocabulary, text, device, perChar);

    /// <inheritdoc cref="Evaluate(TrainedModel, string, Device, bool)"/>
    public static TextScore Evaluate(CharModel model, Architecture architecture, HyperParameters hp, Text.Vocabulary vocabulary, string text, Device device, bool perChar = false)
    {
        text = Text.Corpus.WithLineEndingsAsLearned(vocabulary, text); // a file from the corpus's source scores as the model learned it
        var ids = vocabulary.Encode(text);
        using var batches = Batches(architecture, hp, ids, device);
        using var positions = perChar ? Batches(architecture, hp, Enumerable.Range(0, ids.Length).ToArray(), device) : null;
        using var pass = new ValidationPass(model, batches, device, positions);
        pass.Advance(int.MaxValue);
        var score = pass.Score();
        if (pass.EachChar() is not { } each) return score;
        var chars = vocabulary.Normalize(text).EnumerateRunes().Select(r => r.ToString()).ToArray();
        return score with { Chars = [.. each.Select(e => new CharScore(e.Position, chars[e.Position], e.Loss, e.Top1))] };
    }

    private static IBatcher Batches(Architecture architecture, HyperParameters hp, int[] ids, Device device)
    {
        if (architecture.Layout == DataLayout.Stream)
        {
            if (ids.Length < 2) throw new ArgumentException($"The text has {ids.Length} character(s); the model needs at least 2 to score one (each char is scored from those before it).");
            var streams = Math.Clamp(ids.Length / MinStreamChars, 1, hp.Int("bs"));
            return LanguageModelBatcher.ForScoring(ids, streams, hp.Int("bptt"), device, "text");
        }
        int n = architecture.WindowLength(hp);
        var sequences = architecture.Layout == DataLayout.SequenceWindows;
        if (ids.Length < (sequences ? n + 2 : n + 1))
            throw new ArgumentException(sequences
                // The lesson's cut: windows start every n chars while a window and its one-later targets fit with a char to spare.
                ? $"The text has {ids.Length} character(s); {architecture.Name} scores windows of {n}, each char of a window from those before it in the window, against targets one char later, so it needs at least {n + 2} to score anything."
                : $"The text has {ids.Length} character(s); {architecture.Name} reads {n} before it predicts one, so it needs at least {n + 1} to score anything.");
        return TextWindows.Batcher(ids, n, sequences, Math.Max(hp.Int("bs"), 1024), device); // views of the text: windows cut up front take n times it
    }
}
