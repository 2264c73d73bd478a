using System.Text;

namespace CharRnn.Tui.Cli;

/// <summary>A writer that passes every write on to <paramref name="inner"/> through <see cref="Guard"/>, which decides what a failed write means.</summary>
public abstract class ForwardingWriter(TextWriter inner) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;
    public override void Write(char value) => Guard(() => inner.Write(value));
    public override void Write(char[] buffer, int index, int count) => Guard(() => inner.Write(buffer, index, count));
    public override void Write(string? value) => Guard(() => inner.Write(value));
    public override void WriteLine(string? value) => Guard(() => inner.WriteLine(value));
    public override void WriteLine() => Guard(inner.WriteLine);
    public override void Flush() => Guard(inner.Flush);

    protected override void Dispose(bool disposing)
    {
        if (disposing) Guard(inner.Dispose);
        base.Dispose(disposing);
    }

    protected abstract void Guard(Action write);
}
