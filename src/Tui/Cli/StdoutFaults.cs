namespace CharRnn.Tui.Cli;

/// <summary>
/// The process's stdout, whose write errors say it was stdout being written: a full disk under `> out.txt` read as
/// `charrnn: No space left on device`, which a user took for the model's folder. A closed pipe (`| head`) goes through
/// as it is, for <see cref="Standard"/> and <see cref="ClosedPipeWriter"/> to end the run quietly.
/// </summary>
public sealed class StdoutFaults(TextWriter inner) : ForwardingWriter(inner)
{
    protected override void Guard(Action write)
    {
        try { write(); }
        catch (IOException e) when (!Standard.IsBrokenPipe(e))
        {
            // The errno stays, so a full disk is still one (DiskFault) wherever it is caught.
            throw new IOException($"cannot write to stdout: {e.Message}", e) { HResult = e.HResult };
        }
    }
}
