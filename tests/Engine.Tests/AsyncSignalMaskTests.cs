using CharRnn.Engine.Runtime;

namespace CharRnn.Engine.Tests;

/// <summary>Signals kept off the threads that run libtorch (see AsyncSignalMask), read back from the kernel.</summary>
public sealed class AsyncSignalMaskTests
{
    private const int SigInt = 2, SigTerm = 15, SigWinch = 28, SigSegv = 11;

    [Fact]
    public void The_calling_thread_and_threads_it_starts_block_them_until_it_is_disposed_and_other_threads_do_not()
    {
        Assert.True(OperatingSystem.IsLinux(), "the mask is Linux's; these tests run on Linux");
        string? blocked = null, inherited = null, restored = null;
        var thread = new Thread(() =>
        {
            using (AsyncSignalMask.BlockOnThisThread())
            {
                blocked = ThisThreadsStatus();
                var child = new Thread(() => inherited = ThisThreadsStatus()); // as OpenMP's workers start
                child.Start();
                child.Join();
            }
            restored = ThisThreadsStatus(); // the thread goes on to other work (a test host's) as it was
        });
        thread.Start();
        thread.Join();

        foreach (var status in new[] { blocked!, inherited! })
        {
            foreach (var signal in AsyncSignalMask.Blocked) Assert.True(Blocks(status, signal), $"signal {signal} is not blocked");
            Assert.False(Blocks(status, SigSegv)); // a fault must reach the thread that caused it
        }
        Assert.False(Blocks(restored!, SigInt));
        Assert.False(Blocks(restored!, SigTerm));
        var other = ThisThreadsStatus(); // the test's own thread was not touched
        Assert.False(Blocks(other, SigInt));
        Assert.False(Blocks(other, SigTerm));
        Assert.False(Blocks(other, SigWinch));
    }

    [Fact]
    public void A_process_started_from_a_blocked_thread_through_StartProcess_has_the_signals_and_one_started_plainly_has_not()
    {
        string? plain = null, clean = null;
        static string ChildStatus(Func<System.Diagnostics.ProcessStartInfo, System.Diagnostics.Process> start)
        {
            var info = new System.Diagnostics.ProcessStartInfo("cat", ["/proc/self/status"]) { RedirectStandardOutput = true };
            using var process = start(info);
            var status = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return status;
        }
        var thread = new Thread(() =>
        {
            using (AsyncSignalMask.BlockOnThisThread())
            {
                plain = ChildStatus(i => System.Diagnostics.Process.Start(i)!);
                clean = ChildStatus(AsyncSignalMask.StartProcess);
            }
        });
        thread.Start();
        thread.Join();
        Assert.True(Blocks(plain!, SigTerm)); // what StartProcess is for: a child inherits its starter's mask across exec
        Assert.False(Blocks(clean!, SigTerm));
        Assert.False(Blocks(clean!, SigInt));
    }

    private static string ThisThreadsStatus() => File.ReadAllText("/proc/thread-self/status");

    private static bool Blocks(string status, int signal)
    {
        var mask = status.Split('\n').Single(l => l.StartsWith("SigBlk:", StringComparison.Ordinal))["SigBlk:".Length..].Trim();
        return (Convert.ToUInt64(mask, 16) >> (signal - 1) & 1) == 1;
    }
}
