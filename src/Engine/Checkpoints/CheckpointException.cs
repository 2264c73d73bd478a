namespace CharRnn.Engine.Checkpoints;

/// <summary>A checkpoint could not be used; the message names the file and the problem.</summary>
/// <param name="damaged">The file is a checkpoint's, but its bytes are bad (truncated, corrupted, unreadable): a fault of the data, not of what was asked for.</param>
public sealed class CheckpointException(string path, string problem, bool damaged = false)
    : Exception($"Checkpoint '{path}' cannot be loaded: {problem}.")
{
    public string Path { get; } = path;
    /// <summary>What is wrong with it, without the path.</summary>
    public string Problem { get; } = problem;
    public bool Damaged { get; } = damaged;
}
