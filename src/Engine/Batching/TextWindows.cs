using static TorchSharp.torch;

namespace CharRnn.Engine.Batching;

/// <summary>
/// A whole text's windows in order, as <see cref="WindowedExamples.NextChar"/> (stride 1) or
/// <see cref="WindowedExamples.Sequences"/> cut them, but as views of the text on the device, each
/// batch read out of it: overlapping windows built up front take n times the text (a 5 MB file in
/// 8-char windows held 1 GB), these hold the text once.
/// </summary>
public static class TextWindows
{
    /// <param name="sequences">The sequence layout (non-overlapping windows, each with its chars one later as targets); else every n-char window with its next char.</param>
    public static IBatcher Batcher(IReadOnlyList<int> ids, int n, bool sequences, int batchSize, Device device)
    {
        // The counts WindowedExamples' ranges give: range(0, L - n) and range(0, L - n - 1, n).
        var count = sequences ? Math.Max(0, (ids.Count - n - 1 + n - 1) / n) : Math.Max(0, ids.Count - n);
        if (count == 0) throw new ArgumentException("There are no windows: the text is shorter than one window and the char after it.");
        using var scope = NewDisposeScope(); // the views keep the text's memory; its own handle goes
        var text = tensor(ids.Select(i => (long)i).ToArray()).to(device);
        var (x, y) = sequences
            ? (text.unfold(0, n, n), text.narrow(0, 1, ids.Count - 1).unfold(0, n, n))
            : (text.unfold(0, n, 1), text.narrow(0, n, count));
        return new WindowBatcher(x.narrow(0, 0, count).DetachFromDisposeScope(), y.narrow(0, 0, count).DetachFromDisposeScope(), batchSize, shuffle: false, seed: 0);
    }
}
