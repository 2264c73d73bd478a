using System.Runtime.InteropServices;
using CharRnn.Tui.Cli;

namespace CharRnn.Tui.Tests;

public sealed class StopSignalTests
{
    [Theory]
    [InlineData(PosixSignal.SIGINT, 130)]
    [InlineData(PosixSignal.SIGTERM, 143)]
    [InlineData(PosixSignal.SIGHUP, 129)]
    public void The_exit_code_is_128_plus_the_first_signals_number_as_a_shell_reports_it(PosixSignal first, int code)
    {
        var stop = new StopSignal();
        Assert.Null(stop.ExitCode);
        Assert.True(stop.Record(first));
        Assert.False(stop.Record(first == PosixSignal.SIGINT ? PosixSignal.SIGTERM : PosixSignal.SIGINT)); // a second one quits; the code stays
        Assert.Equal(code, stop.ExitCode);
    }
}
