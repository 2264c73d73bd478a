using System.Runtime.InteropServices;

namespace CharRnn.Tui;

/// <summary>Whether the terminal on standard input has gone (a closed window, a dropped ssh, a killed tmux).</summary>
public static class TerminalHangup
{
    private const short PollIn = 0x1, PollErr = 0x8, PollHup = 0x10, PollNval = 0x20;

    /// <summary>poll() on standard input reports a hang-up, or that it is no longer open; false where there is no poll (Windows).</summary>
    public static bool HasHappened()
    {
        if (OperatingSystem.IsWindows() || Console.IsInputRedirected) return false;
        var fds = new[] { new PollFd { Fd = 0, Events = PollIn } };
        try { return poll(fds, 1, 0) == 1 && (fds[0].Revents & (PollHup | PollErr | PollNval)) != 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int poll([In, Out] PollFd[] fds, nuint count, int timeoutMilliseconds);
}
