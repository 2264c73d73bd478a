using CharRnn.Engine.Models;
using CharRnn.Tui.Cli;

namespace CharRnn.Tui.Tests;

public class MemoryWarningTests
{
    [Theory]
    [InlineData("stateful-lstm", "A smaller --bs, --bptt or --n-hidden needs less.")]
    [InlineData("rnn", "A smaller --bs, --context or --n-hidden needs less.")]
    public void The_memory_warning_names_the_sizes_to_lower_as_the_architectures_flags(string architecture, string advice)
    {
        var text = MemoryWarning.Text(Architectures.All.Single(a => a.Name == architecture), 2L << 30, 1L << 30);
        Assert.StartsWith("charrnn: warning: by its sizes this run may need up to ", text);
        Assert.EndsWith(" it may be killed for want of memory. " + advice, text);
    }
}
