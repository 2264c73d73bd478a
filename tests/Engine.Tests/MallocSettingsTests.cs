using CharRnn.Engine.Runtime;

namespace CharRnn.Engine.Tests;

public class MallocSettingsTests
{
    [Theory]
    [InlineData(null, null, "madvise", MallocAction.Reexecute)]
    [InlineData("tune", null, "madvise", MallocAction.Reexecute)]
    [InlineData(" Keep ", null, "madvise", MallocAction.Keep)]
    [InlineData("keep", "glibc.malloc.arena_max=4", "madvise", MallocAction.Keep)]
    [InlineData(null, MallocSettings.Tunables, "madvise", MallocAction.AlreadySet)] // after the re-execution: no loop
    [InlineData(null, "glibc.malloc.arena_max=4", "madvise", MallocAction.AlreadySet)] // the user's own settings stand
    [InlineData(null, null, "always", MallocAction.NotNeeded)] // the kernel gives huge pages without asking
    [InlineData(null, null, "never", MallocAction.NotNeeded)]
    [InlineData(null, null, null, MallocAction.NotNeeded)] // no transparent huge pages at all
    public void Re_executes_once_where_huge_pages_come_on_request(string? setting, string? tunables, string? hugePages, MallocAction expected)
    {
        Assert.Equal(expected, MallocSettings.Decide(setting, tunables, hugePages));
    }

    [Fact]
    public void An_unknown_setting_is_refused_naming_the_allowed_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => MallocSettings.Decide("off", null, "madvise"));
        Assert.Contains("CHARRNN_MALLOC='off' is not known", e.Message);
        Assert.Contains("tune", e.Message);
        Assert.Contains("keep", e.Message);
    }
}
