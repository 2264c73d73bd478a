using CharRnn.Engine.Storage;

namespace CharRnn.Engine.Tests;

/// <summary>Locks between processes on files: a removable lock file is held at its path, never on a removed file.</summary>
public class FileLockTests
{
    [Fact]
    public void A_held_file_that_was_removed_from_its_path_is_known_as_removed()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "x.lock");
        using var held = FileLock.TryHold(path)!;
        Assert.False(FileLock.IsRemoved(held));
        File.Delete(path); // as the last holder of a removable lock does as it lets go
        Assert.Equal(OperatingSystem.IsLinux(), FileLock.IsRemoved(held));
    }

    [Fact]
    public void A_removable_lock_is_held_once_and_its_file_goes_with_it()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "x.lock");
        var first = FileLock.TryHoldRemovable(path);
        Assert.NotNull(first);
        Assert.Null(FileLock.TryHoldRemovable(path));
        first.Dispose();
        Assert.False(File.Exists(path));
        using var again = FileLock.TryHoldRemovable(path);
        Assert.NotNull(again);
    }

    [Fact]
    public void A_lock_whose_folder_was_moved_away_removes_its_own_file_not_a_new_one_at_its_old_path()
    {
        if (!OperatingSystem.IsLinux()) return; // where an open file's path is known
        using var folder = new TempFolder();
        var (model, trash) = (Path.Combine(folder.Path, "model"), Path.Combine(folder.Path, ".deleting-model"));
        Directory.CreateDirectory(model);
        var deleting = FileLock.TryHoldRemovable(Path.Combine(model, "x.lock"))!;
        Directory.Move(model, trash); // a delete renames the folder aside while it holds the lock...
        Directory.CreateDirectory(model);
        using var training = FileLock.TryHoldRemovable(Path.Combine(model, "x.lock")); // ...and a new run of the name starts
        Assert.NotNull(training);
        deleting.Dispose();
        Assert.True(File.Exists(Path.Combine(model, "x.lock")), "the new run's lock file was removed");
        Assert.False(File.Exists(Path.Combine(trash, "x.lock")));
    }
}
