using CharRnn.Engine.Checkpoints;

namespace CharRnn.Engine.Tests;

/// <summary>The empty `.write-check-PID` a `charrnn train` killed between writing and deleting it leaves in its folder.</summary>
public class WriteCheckTests
{
    /// <summary>The id of a process that has ended.</summary>
    private static int EndedProcessId()
    {
        using var ended = System.Diagnostics.Process.Start("true")!;
        ended.WaitForExit();
        return ended.Id;
    }

    [Fact]
    public void Only_empty_write_checks_whose_process_is_gone_are_deleted()
    {
        using var root = new TempFolder();
        var gone = EndedProcessId();
        var stale = root.File(ModelFolder.WriteCheckFile(gone));
        var running = root.File(ModelFolder.WriteCheckFile(Environment.ProcessId)); // a run checking its folder now
        var written = root.File(ModelFolder.WriteCheckFile(gone + 1_000_000)); // not empty: not one of ours
        var notAnId = root.File(".write-check-notes");
        File.WriteAllBytes(stale, []);
        File.WriteAllBytes(running, []);
        File.WriteAllText(written, "kept");
        File.WriteAllBytes(notAnId, []);

        ModelFolder.DeleteStaleWriteChecks(root.Path);

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(running));
        Assert.True(File.Exists(written));
        Assert.True(File.Exists(notAnId));
    }

    [Fact]
    public void A_trainer_that_takes_a_folder_deletes_the_stale_write_checks_there()
    {
        using var root = new TempFolder();
        var stale = root.File(ModelFolder.WriteCheckFile(EndedProcessId()));
        File.WriteAllBytes(stale, []);
        var a = Models.Architectures.Get("stateful-gru");
        using (Training.Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(maxSteps: 1), Tiny.Corpus(), TorchSharp.torch.CPU, root.Path)) { }
        Assert.False(File.Exists(stale));
    }
}
