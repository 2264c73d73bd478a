using System.Text;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;
using static TorchSharp.torch;

namespace CharRnn.Engine.Inspection;

/// <summary>
/// What one layer's hidden cells held after each character of a text (Karpathy's "visualizing the neuron
/// firings", `charrnn neurons`): the text is fed one char at a time from a fresh state, through a
/// <see cref="GenerationSession"/> as generation feeds a prime, and after each char the layer's h is read
/// (for an LSTM its h, the output, not its cell memory c). Row t is the state after <see cref="Characters"/>[t].
/// </summary>
public sealed class HiddenStateTrace
{
    public HiddenStateTrace(IReadOnlyList<string> characters, float[][] activations, int layer)
    {
        if (characters.Count != activations.Length)
            throw new ArgumentException($"A trace has one row of activations per char: {characters.Count} chars, {activations.Length} rows.", nameof(activations));
        if (activations.Length == 0) throw new ArgumentException("A trace has at least one char.", nameof(activations));
        if (activations.Any(r => r.Length != activations[0].Length) || activations[0].Length == 0)
            throw new ArgumentException("Every row of a trace has the same number of cells, at least one.", nameof(activations));
        Characters = characters;
        Activations = activations;
        Layer = layer;
    }

    /// <summary>The text as given (its "\r\n" as "\n" where the model learned no '\r'), one Unicode character (a string of one or two UTF-16 units) a row.</summary>
    public IReadOnlyList<string> Characters { get; }
    /// <summary>[char][cell]: the layer's hidden state after reading that char.</summary>
    public float[][] Activations { get; }
    /// <summary>The layer read, counted from 0 (the input's).</summary>
    public int Layer { get; }
    public int Cells => Activations[0].Length;

    /// <summary>One cell's activation after each char.</summary>
    public float[] Cell(int cell)
    {
        if ((uint)cell >= (uint)Cells) throw new ArgumentException($"cell {cell} does not exist: the layer has {Cells} cells, 0 to {Cells - 1}.");
        return Activations.Select(row => row[cell]).ToArray();
    }

    /// <summary>
    /// Feeds <paramref name="text"/> through <paramref name="model"/> and records layer <paramref name="layer"/>'s
    /// hidden state (the last layer when null) after each char. Only models that carry a hidden state from char to
    /// char have one (<see cref="Architecture.IsStateful"/>); a windowed one is refused (<see cref="NoHiddenStateException"/>).
    /// A char the vocabulary cannot read is refused as encoding refuses it (<see cref="UnknownCharactersException"/>),
    /// NUL (padding, not text) with <see cref="PaddingInText.Problem"/>. The text is read as <see cref="AsRead"/> reads it.
    /// </summary>
    public static HiddenStateTrace Record(CharModel model, Vocabulary vocabulary, string text, int? layer = null) =>
        RecordAsRead(model, vocabulary, AsRead(vocabulary, text), layer);

    /// <summary>
    /// A text as <see cref="Record"/> feeds it to <paramref name="vocabulary"/>'s model: its "\r\n" as the model's corpus was
    /// read (<see cref="Corpus.WithLineEndingsAsLearned"/>, as eval reads it). A caller that measures or cuts the text before
    /// tracing it (charrnn neurons' --max-chars) reads it with this and traces it with <see cref="RecordAsRead"/>: read once.
    /// </summary>
    public static string AsRead(Vocabulary vocabulary, string text) => Corpus.WithLineEndingsAsLearned(vocabulary, text);

    /// <summary><see cref="Record"/> of a text already read with <see cref="AsRead"/> (or a part of one), fed as it is.</summary>
    public static HiddenStateTrace RecordAsRead(CharModel model, Vocabulary vocabulary, string text, int? layer = null)
    {
        if (model is not StatefulCharModel stateful) throw new NoHiddenStateException(model.GetName());
        var chosen = layer ?? stateful.Layers - 1;
        if (chosen < 0 || chosen >= stateful.Layers)
            throw new ArgumentException($"layer {chosen} does not exist: the model has {stateful.Layers} layer(s), 0 to {stateful.Layers - 1} (0 reads the input).");
        if (text.Length == 0) throw new ArgumentException("The text is empty: give at least one character to trace.", nameof(text));
        if (PaddingInText.In(text)) throw new ArgumentException($"The text {PaddingInText.Problem}.", nameof(text));
        vocabulary.Encode(text); // every char the model cannot read named at once, before any is fed

        var characters = new List<string>(text.Length);
        var activations = new List<float[]>(text.Length);
        using var session = new GenerationSession(model, vocabulary, new SamplingSettings());
        foreach (var rune in text.EnumerateRunes())
        {
            var character = rune.ToString();
            session.Feed(character);
            // Read back at once, as Feed reads its logits: held on the device, a long text's rows would double the memory.
            using (NewDisposeScope()) using (no_grad()) activations.Add(HostCopy.Floats(session.State.Parts[0][chosen, 0])); // h: [layers, batch 1, hidden]; an LSTM's c is Parts[1]
            characters.Add(character);
        }
        return new HiddenStateTrace(characters, activations.ToArray(), chosen);
    }
}
