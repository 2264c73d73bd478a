using System.Text;
using CharRnn.Engine.Sampling;

namespace CharRnn.Tui.Cli;

/// <summary>
/// What charrnn generate prints: one or more continuations of one primed session, stepped together as one
/// batch (<see cref="GenerationStep"/>: a step of 8 samples costs about what a step of one does, not 8),
/// each drawn with its own seed and ended at the stop string on its own. The first streams to the output as
/// it is sampled; the others are held and printed after it, in order, each behind a header line when there
/// are several.
/// </summary>
public static class GeneratedSamples
{
    public const int MaxSamples = 64;

    /// <summary>Sample <paramref name="sample"/> (from 0) draws with the seed plus its index, wrapping past 2^64 − 1: the first is what one sample would be.</summary>
    public static ulong SeedOf(SamplingSettings settings, int sample) => unchecked(settings.Seed + (ulong)sample);

    /// <param name="primed">The session after the prime, which the first sample continues (the others continue copies of it).</param>
    /// <param name="shownPrime">The prime as the model read it, printed before each sample.</param>
    public static void Write(TextWriter output, GenerationSession primed, string shownPrime, int samples, int chars, string stop)
    {
        var sessions = new List<GenerationSession> { primed };
        try
        {
            for (int i = 1; i < samples; i++)
            {
                sessions.Add(primed.Fork());
                sessions[i].Configure(primed.Settings with { Seed = SeedOf(primed.Settings, i) }, restartRandom: true);
            }
            var held = sessions.Select(_ => new StringBuilder()).ToArray();
            var stops = sessions.Select(_ => new StopString(stop)).ToArray();
            var running = Enumerable.Range(0, samples).ToList();
            Header(output, 0, samples, primed.Settings);
            output.Write(shownPrime);
            for (int step = 0; step < chars && running.Count > 0; step++)
            {
                var picked = GenerationStep.Advance(running.Select(i => sessions[i]).ToList());
                var ended = new HashSet<int>();
                for (int j = 0; j < running.Count; j++)
                {
                    var (sample, text) = (running[j], picked[j].Text);
                    if (sample == 0)
                    {
                        output.Write(text);
                        output.Flush();
                    }
                    else held[sample].Append(text);
                    if (stops[sample].Reached(text)) ended.Add(sample);
                }
                running.RemoveAll(ended.Contains);
                if (ended.Contains(0)) EndLine(output); // the streamed sample is whole: its line ends now, not once the others are
            }
            if (running.Contains(0)) EndLine(output);
            for (int i = 1; i < samples; i++)
            {
                Header(output, i, samples, primed.Settings);
                output.Write(shownPrime);
                output.Write(held[i]);
                EndLine(output);
            }
        }
        finally
        {
            foreach (var fork in sessions.Skip(1)) fork.Dispose();
        }
    }

    private static void Header(TextWriter output, int sample, int samples, SamplingSettings settings)
    {
        if (samples > 1) output.WriteLine($"--- sample {sample + 1} of {samples} (seed {SeedOf(settings, sample)}) ---");
    }

    private static void EndLine(TextWriter output)
    {
        output.WriteLine();
        output.Flush();
    }
}
