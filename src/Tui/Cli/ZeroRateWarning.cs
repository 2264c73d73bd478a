using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Says before training starts (charrnn train and resume; the REPL's train, for its lr=) when every layer group's learning rate is 0: the run then changes no weight
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

    public static string? For(TrainingOptions options) => For(options.LearningRate, "--lr ");

    /// <summary>The warning for <paramref name="lr"/>, or null; the rate named as the caller sets it (<paramref name="lrSetting"/>: "--lr " on the command line, "lr=" in the REPL).</summary>
    public static string? For(LayerGroupValues lr, string lrSetting) =>
        lr is { Embedding: 0, Recurrent: 0, Output: 0 }
            ? $"{lrSetting}{lr}: no weight will change, every layer group's rate being 0 (0 freezes a group, as {lrSetting}0,1e-3,1e-3 does the embedding); give a rate above 0 to train."
            : null;
}
