using CharRnn.Tui.Cli;

namespace CharRnn.Tui.Tests;

public class ServeOptionsTests
{
    [Theory]
    [InlineData("--training-share", "1.5", "--training-share 1.5 is not allowed; it must be from 0.05 to 0.95.")]
    [InlineData("--training-slice-ms", "0.1", "--training-slice-ms 0.1 is not allowed; it must be from 0.5 to 100.")]
    [InlineData("--checkpoint-minutes", "0", "--checkpoint-minutes 0 is not allowed; it must be positive.")]
    public void Serve_refuses_an_option_out_of_range_before_starting(string flag, string value, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => CharRnnCommandLine.Build().Parse(["serve", flag, value, "--listen", "127.0.0.1:0"])
            .Invoke(new System.CommandLine.InvocationConfiguration { EnableDefaultExceptionHandler = false }));
        Assert.Equal(message, e.Message);
        Assert.True(CharRnnCommandLine.IsUserError(e)); // one line on stderr, exit code 2
    }
}
