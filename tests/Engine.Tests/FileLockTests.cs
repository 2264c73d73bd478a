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
}
