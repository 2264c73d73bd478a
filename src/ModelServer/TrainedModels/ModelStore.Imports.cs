using CharRnn.Engine.Checkpoints;
using CharRnn.ModelServer.Errors;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// Where ImportModel builds a model before it is one: a dot-folder of its own in the models folder (never listed, on the
/// same file system, so the finished folder is renamed into place whole), removed when the import fails and at the next start.
/// Its name carries the model's (.importing-NAME-GUID), so that the next start can also forget an owner row a crash left behind.
/// </summary>
public sealed partial class ModelStore
{
    private const string ImportPrefix = ".importing-";

    /// <summary>
    /// Test seam, null outside tests: called before each write of an import's files in its folder (each piece of the file received,
    /// then its checkpoint) with the file's path, so that a test can stand in for a file system that refuses it (chmod does not stop root).
    /// </summary>
    internal Action<string>? ImportWriteFault { get; set; }

    /// <summary>Throws as the file system would refuse a write of <paramref name="file"/>, where a test set <see cref="ImportWriteFault"/>.</summary>
    internal void ImportWriting(string file) => ImportWriteFault?.Invoke(file);

    /// <summary>A new, empty folder for one import's file and checkpoint, making model <paramref name="name"/>.</summary>
    public string NewImportFolder(string name) => Directory.CreateDirectory(Path.Combine(Root, $"{ImportPrefix}{name}-{Guid.NewGuid():N}")).FullName;

    /// <summary>
    /// Renames the finished <paramref name="staged"/> folder into place as model <paramref name="name"/>, owned by
    /// <paramref name="owner"/>. The owner's row is written first: a server that dies between the two leaves a row naming
    /// no model (ignored), never a model without an owner, which every key could read.
    /// </summary>
    public void StoreImported(string staged, string name, string owner, bool shared)
    {
        var folder = FolderOf(name);
        // A folder a job stopped before its first checkpoint left empty is no model; one with files in it is left alone.
        if (Directory.Exists(folder) && !ModelFolder.HoldsModel(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
            Directory.Delete(folder);
        RecordUnrecorded(name); // a row left by a rename or delete that stands unrecorded is not the new model's
        _database.SetNewModelOwner(name, owner, shared); // one transaction: a refused one leaves no row naming no model
        try { Directory.Move(staged, folder); }
        catch (IOException) when (Directory.Exists(folder))
        {
            _database.ForgetModel(name);
            throw ServerException.Exists(ModelFolder.HoldsModel(folder)
                ? ModelNames.ImportTakenMessage(name, TakenName(name) ?? name, writable: null) // made outside the server meanwhile (charrnn train)
                : $"The models folder has a folder '{name}' with files in it but no model (its server operator may remove it); choose another name for the import.", ("model", TakenName(name) ?? name));
        }
        catch
        {
            _database.ForgetModel(name);
            throw;
        }
    }

    /// <summary>
    /// Removes what imports a stop cut short left (at the start, before any import runs): their folders, and the owner row of
    /// one killed between <see cref="StoreImported"/>'s row and its rename, which would make a model trained later under the
    /// name outside the server (charrnn train) the importing key's.
    /// </summary>
    private void RemoveUnfinishedImports()
    {
        foreach (var staged in Directory.GetDirectories(Root, ImportPrefix + "*"))
        {
            ForgetOwnerLeftBy(staged, ImportPrefix);
            try { Directory.Delete(staged, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _logger.LogWarning("Could not remove {Folder} left by an interrupted import: {Reason}", staged, e.Message); }
        }
    }
}
