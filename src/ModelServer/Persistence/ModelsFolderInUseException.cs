namespace CharRnn.ModelServer.Persistence;

/// <summary>
/// A models folder whose charrnn.lock another charrnn process holds (a server, or a train/resume into it). An
/// ArgumentException, as every refused start is; its own type so that a verb can say what to do in its own terms.
/// </summary>
public sealed class ModelsFolderInUseException(string folder, string lockPath, string message) : ArgumentException(message)
{
    public string Folder { get; } = folder;
    public string LockPath { get; } = lockPath;
}
