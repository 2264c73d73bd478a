namespace CharRnn.Engine.Training;

/// <summary>
/// Says before training starts when every layer group's learning rate is 0: the run then changes no weight
/// (every schedule scales the rate, and AdamW's decay is lr·wd), so a 0 typed by mistake would cost a whole
/// run for nothing. A warning, not a refusal: 0 is how one group is frozen (0,1e-3,1e-3), as the lesson
/// freezes layers, so the range stays 0 to 10. A resume that gives no rate goes on at the model's stored one:
/// the warning then names that, not a setting the user never gave, and says how to change it.
/// </summary>
public static class ZeroRateWarning
{
    /// <summary>
    /// The warning for <paramref name="lr"/>, or null; the rate named as the setting, or, when not <paramref name="rateGiven"/>
    /// (a resume's stored rate), as the model's, with the setting that changes it.
    /// </summary>
    public static TrainingWarning? For(LayerGroupValues lr, bool rateGiven = true)
    {
        if (lr is not { Embedding: 0, Recurrent: 0, Output: 0 }) return null;
        var freezing = WarningPart.Of(TrainingSetting.LearningRate, "0", "1e-3", "1e-3");
        return rateGiven
            ? TrainingWarning.Of($"{WarningPart.Of(TrainingSetting.LearningRate, lr.ToString())}: no weight will change, every layer group's rate being 0 (0 freezes a group, as {freezing} does the embedding); give a rate above 0 to train.")
            : TrainingWarning.Of($"the model's stored learning rate is {lr}: no weight will change, every layer group's rate being 0; give a rate above 0 on the resume ({WarningPart.Of(TrainingSetting.LearningRate, "1e-3")}, or one per group as {freezing}) to train.");
    }
}
