using Xunit;

namespace CharRnn.Tui.Tests;

/// <summary>A shared server refusing charrnn's key: the refusal is printed with the request id its server logged it under.</summary>
public sealed class RefusedKeyTests
{
    [Fact]
    public async Task Exec_with_an_unknown_key_prints_the_refusal_and_its_request_id()
    {
        await using var server = await KeyedEmbeddedServer.StartAsync();
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "charrnn.dll"), "--server", server.Address.ToString(), "--token", "crn_not-a-key", "--exec", "models" })
            start.ArgumentList.Add(argument);
        using var process = CharRnn.Engine.Runtime.AsyncSignalMask.StartProcess(start);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Matches(@"error: The API key is not valid on this server \(unknown or removed\)\. \(request [0-9a-f]{8}\)", await stdout + stderr);
        Assert.NotEqual(0, process.ExitCode);
    }
}
