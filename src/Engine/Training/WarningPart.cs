namespace CharRnn.Engine.Training;

/// <summary>
/// A piece of a <see cref="TrainingWarning"/>: words as they are, or (with <paramref name="Setting"/>) a setting with its
/// value, one or one per layer group, that the caller spells as its users set it.
/// </summary>
public sealed record WarningPart(string Words, TrainingSetting? Setting, IReadOnlyList<string> Values)
{
    public static WarningPart Text(string words) => new(words, null, []);

    /// <summary>The setting with <paramref name="values"/>: a number, "7 or 15", or the three layer groups' rates.</summary>
    public static WarningPart Of(TrainingSetting setting, params string[] values) => new("", setting, values);

    public string Say(TrainingSettingNames names) => Setting is { } setting ? names.Say(setting, Values) : Words;
}
