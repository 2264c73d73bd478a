using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Says before a model is built on the CPU when its sizes may need more memory than this process may use (an upper
/// estimate, <see cref="TrainingFootprint"/>): the run may be killed for want of it. A warning, not a refusal, as the
/// estimate is high; a server refuses such a job outright (--max-job-memory-mb). charrnn train and charrnn lr-find give it.
/// </summary>
internal static class MemoryWarning
{
    public static void WriteIfTooLarge(Architecture architecture, HyperParameters hp, int vocabulary, int characters, TextWriter to)
    {
        var needed = TrainingFootprint.Bytes(architecture, hp, vocabulary, characters);
        var machine = MachineMemory.Bytes;
        if (needed > machine) to.WriteLine(Text(architecture, needed, machine));
    }

    /// <summary>The sizes that set the footprint, named as the flags this architecture takes (--bs, not bs), so the user can type them.</summary>
    private static readonly string[] Sizes = ["bs", "bptt", "context", "n_hidden"];

    internal static string Text(Architecture architecture, long needed, long machine)
    {
        var flags = Sizes.Where(s => architecture.Parameters.Any(p => p.Name == s)).Select(s => "--" + s.Replace('_', '-')).ToList();
        var smaller = ProseList.Of(flags, "or");
        return $"charrnn: warning: by its sizes this run may need up to {TrainingFootprint.Format(needed)} of memory, more than the " +
               $"{TrainingFootprint.Format(machine)} this process may use: it may be killed for want of memory." + (flags.Count > 0 ? $" A smaller {smaller} needs less." : "");
    }
}
