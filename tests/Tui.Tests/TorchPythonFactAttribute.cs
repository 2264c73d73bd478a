using System.Diagnostics;

namespace CharRnn.Tui.Tests;

/// <summary>
/// A test of examples/python/load_in_pytorch.py, skipped (and saying why) where Debian's /usr/bin/python3 has no torch
/// (python3-torch; bench/install-reference.sh installs it). xunit 2 decides a skip when it finds the test, so the check is made then.
/// </summary>
public sealed class TorchPythonFactAttribute : FactAttribute
{
    private const string Python = "/usr/bin/python3";

    public TorchPythonFactAttribute()
    {
        if (!File.Exists(Python)) Skip = $"no {Python}: the PyTorch example is not run";
        else if (!Directory.Exists("/usr/lib/python3/dist-packages/torch")) Skip = $"{Python} has no torch (apt-get install python3-torch): the PyTorch example is not run";
    }

    /// <summary>Runs load_in_pytorch.py with <paramref name="args"/>: its exit code, and its stdout then its stderr.</summary>
    public static (int Code, string Output) RunScript(params string[] args) => Run([Script, .. args]);

    /// <summary>Runs Python <paramref name="code"/> with load_in_pytorch.py importable (its functions tested one by one).</summary>
    public static (int Code, string Output) RunWithScript(string code) =>
        Run(["-c", $"import sys; sys.path.insert(0, {System.Text.Json.JsonSerializer.Serialize(Path.GetDirectoryName(Script))})\n{code}"]);

    private static (int Code, string Output) Run(string[] args)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = CharRnn.Engine.Runtime.AsyncSignalMask.StartProcess(start);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"load_in_pytorch.py {string.Join(' ', args)} did not end within 2 minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string Script
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder != null; folder = folder.Parent)
                if (File.Exists(Path.Combine(folder.FullName, "CharRnn.sln"))) return Path.Combine(folder.FullName, "examples", "python", "load_in_pytorch.py");
            throw new InvalidOperationException("CharRnn.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
