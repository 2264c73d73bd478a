namespace CharRnn.Engine.Models;

/// <summary>How an architecture's training examples are cut from the text.</summary>
public enum DataLayout
{
    /// <summary>Windows of n chars (x: [batch, n]) each followed by one target char (y: [batch]).</summary>
    NextCharWindows,
    /// <summary>Non-overlapping windows of n chars, each shifted by one as targets (x, y: [batch, n]).</summary>
    SequenceWindows,
    /// <summary>The text as bs parallel streams read bptt steps at a time (x, y: [bptt, bs]); state carries over.</summary>
    Stream,
}
