using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Says before training starts when every layer group's learning rate is 0: the run then changes no weight
/// (every schedule scales the rate, and AdamW's decay is lr·wd), so a 0 typed by mistake would cost a whole
/// run for nothing. A warning, not a refusal: 0 is how one group is frozen (--lr 0,1e-3,1e-3), as the lesson
/// freezes layers, so the range stays 0 to 10.
/// </summary>
internal static class ZeroRateWarning
{
    public static void WriteIfAny(TrainingOptions options, TextWriter to)
    {
        if (For(options) is { } warning) to.WriteLine("charrnn: warning: " + warning);
    }

    public static string? For(TrainingOptions options) =>
        options.LearningRate is { Embedding: 0, Recurrent: 0, Output: 0 }
            ? $"--lr {options.LearningRate}: no weight will change, every layer group's rate being 0 (0 freezes a group, as --lr 0,1e-3,1e-3 does the embedding); give a rate above 0 to train."
            : null;
}
