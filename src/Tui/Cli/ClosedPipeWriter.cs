namespace CharRnn.Tui.Cli;

/// <summary>
/// Standard output for a run that ends quietly when its reader goes (`charrnn --exec "gen 100000" |
/// head`): the first write to a closed pipe calls <paramref name="readerGone"/>, and that write and
/// every later one are dropped. Any other write error (a full disk) goes through.
/// </summary>
public sealed class ClosedPipeWriter(TextWriter inner, Action readerGone) : ForwardingWriter(inner)
{
    public bool Closed { get; private set; }

    protected override void Guard(Action write)
    {
        if (Closed) return;
        try { write(); }
        catch (IOException e) when (Standard.IsBrokenPipe(e))
        {
            Closed = true;
            readerGone();
        }
    }
}
