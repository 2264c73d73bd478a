using System.Text;
using Microsoft.Win32.SafeHandles;

namespace CharRnn.Tui.Cli;

/// <summary>The process's standard output, written so that a reader that goes away is noticed.</summary>
public static class Standard
{
    private static TextWriter? _processOutput;

    /// <summary>The charrnn program (not a test calling its verbs) writes its output to the process's stdout.</summary>
    public static void UseProcessOutput() => _processOutput = Console.Out;

    /// <summary>
    /// Console.Out on a terminal, in a file, or where Console.Out was set to another writer. When
    /// the process's output goes to a pipe, a writer on file descriptor 1 itself: .NET's Console
    /// treats a closed pipe (EPIPE) as a successful write, so a verb piped into `head` would go on
    /// for its whole run; this writer throws IOException instead (<see cref="IsBrokenPipe"/>).
    /// Not for a file: a FileStream writes a seekable descriptor at its own offset without moving
    /// the one it shares with the shell, so the next command's output (`{ charrnn generate; echo;
    /// } > out.txt`) would overwrite this one's.
    /// </summary>
    public static TextWriter Output()
    {
        if (!Console.IsOutputRedirected || OperatingSystem.IsWindows() || !ReferenceEquals(Console.Out, _processOutput))
            return new NonClosing(Console.Out);
        Console.Out.Flush();
        var stream = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        if (stream.CanSeek)
        {
            stream.Dispose(); // leaves descriptor 1 open: the handle does not own it
            return new NonClosing(Console.Out);
        }
        // Each write goes out at once, as Console.Out's do: a line must not wait in a buffer behind a long run.
        return new StdoutFaults(new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 4096) { AutoFlush = true });
    }

    /// <summary>
    /// Runs <paramref name="write"/> on <see cref="Output"/>: a pipe's reader that goes away (`| head`) ends it
    /// quietly, as nothing more is wanted; any other write error (a full disk) is thrown.
    /// </summary>
    public static void WriteUntilReaderLeaves(Action<TextWriter> write)
    {
        var stdout = Output();
        try
        {
            write(stdout);
        }
        catch (IOException e) when (Console.IsOutputRedirected && IsBrokenPipe(e))
        {
        }
        finally
        {
            try { stdout.Dispose(); }
            catch (IOException) { } // what it still held had nowhere to go
        }
    }

    /// <summary>
    /// Why nothing can be written to descriptor 1, or null when it can. Run before anything else opens a file: with
    /// stdout closed (`>&-`) the runtime's own files take descriptor 1 (a pipe's read end, found at Main), so an output
    /// written there would fail for an unrelated reason ("Access to the path is denied"), or land in a file that is not
    /// the output at all. A closed descriptor and one open only for reading (`1< file`) look alike from here.
    /// </summary>
    public static string? WhyOutputIsUnwritable()
    {
        if (OperatingSystem.IsWindows()) return null;
        var flags = Fcntl(1, FGetFl);
        return flags == -1 || (flags & OAccMode) == ORdOnly
            ? "stdout is closed (or open only for reading), so nothing can be written to it; give the output somewhere to go: " +
              "a file (> out.txt), a pipe, or > /dev/null to discard it."
            : null;
    }

    private const int FGetFl = 3, OAccMode = 3, ORdOnly = 0; // Linux and macOS alike

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int Fcntl(int fd, int command);

    /// <summary>The reader of a pipe has gone (EPIPE): nothing more is wanted. Any other write error (a full disk) is one.</summary>
    public static bool IsBrokenPipe(IOException e) => e.HResult == EPipe || e.Message.Contains("Broken pipe", StringComparison.Ordinal);

    private const int EPipe = 32; // Linux and macOS

    /// <summary>Console.Out behind a writer whose Dispose leaves it open.</summary>
    private sealed class NonClosing(TextWriter inner) : TextWriter
    {
        public override Encoding Encoding => inner.Encoding;
        public override void Write(char value) => inner.Write(value);
        public override void Write(string? value) => inner.Write(value);
        public override void WriteLine(string? value) => inner.WriteLine(value);
        public override void WriteLine() => inner.WriteLine();
        public override void Flush() => inner.Flush();
        protected override void Dispose(bool disposing) => inner.Flush();
    }
}
