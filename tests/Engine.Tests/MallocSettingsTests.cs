using CharRnn.Engine.Runtime;

namespace CharRnn.Engine.Tests;

public class MallocSettingsTests
{
    [Theory]
    [InlineData(null, null, MallocAction.Reexecute)]
    [InlineData("tune", null, MallocAction.Reexecute)]
    [InlineData(" Keep ", null, MallocAction.Keep)]
    [InlineData("keep", "glibc.malloc.arena_max=4", MallocAction.Keep)]
    [InlineData(null, MallocSettings.Tunables, MallocAction.AlreadySet)] // after the re-execution: no loop
    [InlineData(null, "glibc.malloc.arena_max=4", MallocAction.AlreadySet)] // the user's own settings stand
    public void Re_executes_once_unless_kept_or_already_set(string? setting, string? tunables, MallocAction expected)
    {
        Assert.Equal(expected, MallocSettings.Decide(setting, tunables));
    }

    [Fact]
    public void An_unknown_setting_is_refused_naming_the_allowed_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => MallocSettings.Decide("off", null));
        Assert.Contains("CHARRNN_MALLOC='off' is not known", e.Message);
        Assert.Contains("tune", e.Message);
        Assert.Contains("keep", e.Message);
    }
}
