using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Says before training starts (charrnn train and resume; the REPL's train and resume) when every layer group's learning rate is 0: the run then changes no weight
/// (every schedule scales the rate, and AdamW's decay is lr·wd), so a 0 typed by mistake would cost a whole
/// run for nothing. A warning, not a refusal: 0 is how one group is frozen (--lr 0,1e-3,1e-3), as the lesson
/// freezes layers, so the range stays 0 to 10. A resume that gives no rate goes on at the model's stored one:
/// the warning then names that, not a flag the user never typed, and says how to change it.
/// </summary>
internal static class ZeroRateWarning
{
    /// <param name="rateGiven">The rate came from --lr on this command line; false: a resume's stored rate.</param>
    public static void WriteIfAny(TrainingOptions options, bool rateGiven, TextWriter to)
    {
        if (For(options.LearningRate, "--lr ", rateGiven) is { } warning) to.WriteLine("charrnn: warning: " + warning);
    }

    /// <summary>
    /// The warning for <paramref name="lr"/>, or null; the rate named as the caller sets it (<paramref name="lrSetting"/>: "--lr " on the
    /// command line, "lr=" in the REPL), or, when not <paramref name="rateGiven"/>, as the model's stored rate that a resume's <paramref name="lrSetting"/> changes.
    /// </summary>
    public static string? For(LayerGroupValues lr, string lrSetting, bool rateGiven = true)
    {
        if (lr is not { Embedding: 0, Recurrent: 0, Output: 0 }) return null;
        return rateGiven
            ? $"{lrSetting}{lr}: no weight will change, every layer group's rate being 0 (0 freezes a group, as {lrSetting}0,1e-3,1e-3 does the embedding); give a rate above 0 to train."
            : $"the model's stored learning rate is {lr}: no weight will change, every layer group's rate being 0; give a rate above 0 on the resume ({lrSetting}1e-3, or one per group as {lrSetting}0,1e-3,1e-3) to train.";
    }
}
