namespace CharRnn.Tui.Tests;

public partial class CommandLineTests
{
    /// <summary>
    /// `charrnn generate … >&-`: with stdout closed, the runtime's own pipe holds descriptor 1 and the first write failed
    /// with "Access to the path is denied."; it is refused first, saying stdout cannot be written (exit 1, a failed run's).
    /// </summary>
    [Theory]
    [InlineData("generate no-such-model -n 5 >&-")]
    [InlineData("archs >&-")]
    [InlineData("archs 1</dev/null")]
    public void A_closed_stdout_is_refused_saying_so_before_the_verb_runs(string args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("sh") { RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec dotnet \"$0\" {args}");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "charrnn.dll"));
        using var process = System.Diagnostics.Process.Start(start)!;
        var said = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(1, process.ExitCode);
        Assert.Equal("charrnn: stdout is closed (or open only for reading), so nothing can be written to it; give the output somewhere to go: " +
                     "a file (> out.txt), a pipe, or > /dev/null to discard it.", said.Trim());
    }
}
