using CharRnn.Engine.Storage;

namespace CharRnn.Engine.Tests;

public class DiskFaultTests
{
    [Fact]
    public void A_full_disk_is_a_fault_of_the_disk_and_a_path_that_is_not_there_is_not()
    {
        if (!OperatingSystem.IsLinux()) return; // /dev/full and Linux's errno values
        // /dev/full answers every write with ENOSPC, as a full disk does: the exception .NET really throws.
        var full = Assert.ThrowsAny<IOException>(() => File.WriteAllBytes("/dev/full", [1]));
        Assert.True(DiskFault.Is(full), full.Message);

        var missing = Assert.ThrowsAny<IOException>(() => File.WriteAllBytes("/nonexistent-charrnn-folder/x", [1]));
        Assert.False(DiskFault.Is(missing), missing.Message);
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("a-file"), "");
        var underAFile = Assert.ThrowsAny<IOException>(() => Directory.CreateDirectory(Path.Combine(folder.File("a-file"), "sub")));
        Assert.False(DiskFault.Is(underAFile), underAFile.Message);
    }
}
