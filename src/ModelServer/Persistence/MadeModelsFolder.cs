namespace CharRnn.ModelServer.Persistence;

/// <summary>
/// A models folder the database made for a start that then was refused (a port in use): removed, so that the next start
/// says again that it made it (a typo in --models shows there). Only while it holds nothing but what the database put in it
/// (and <paramref name="startFiles"/>: the TUI's embedded server makes the folder itself, for its log, before the database).
/// </summary>
public sealed class MadeModelsFolder(string folder, ILogger? logger, params string[] startFiles)
{
    /// <summary>The database's files (and its lock): nothing a user made, nothing a model needs.</summary>
    private static readonly string[] DatabaseFiles = ["charrnn.db", "charrnn.db-wal", "charrnn.db-shm", "charrnn.db-journal", "charrnn.lock"];

    public void RemoveIfUnused()
    {
        string[] made = [.. DatabaseFiles, .. startFiles];
        try
        {
            if (!Directory.Exists(folder) || Directory.EnumerateFileSystemEntries(folder).Any(e => !made.Contains(Path.GetFileName(e)))) return;
            foreach (var name in made) File.Delete(Path.Combine(folder, name));
            Directory.Delete(folder);
            logger?.LogInformation("Removed the models folder {Folder} again: the server did not start", folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger?.LogWarning("The models folder {Folder}, made by a start that was refused, could not be removed: {Reason}", folder, e.Message);
        }
    }
}
