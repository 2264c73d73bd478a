using System.Text;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Standard output for a run that ends quietly when its reader goes (`charrnn --exec "gen 100000" |
/// head`): the first write to a closed pipe calls <paramref name="readerGone"/>, and that write and
/// every later one are dropped. Any other write error (a full disk) goes through.
/// </summary>
public sealed class ClosedPipeWriter(TextWriter inner, Action readerGone) : TextWriter
{
    public bool Closed { get; private set; }

    public override Encoding Encoding => inner.Encoding;
    public override void Write(char value) => Guard(() => inner.Write(value));
    public override void Write(string? value) => Guard(() => inner.Write(value));
    public override void WriteLine(string? value) => Guard(() => inner.WriteLine(value));
    public override void WriteLine() => Guard(inner.WriteLine);
    public override void Flush() => Guard(inner.Flush);

    protected override void Dispose(bool disposing)
    {
        if (disposing) Guard(inner.Dispose);
        base.Dispose(disposing);
    }

    private void Guard(Action write)
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
