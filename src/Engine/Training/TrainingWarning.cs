namespace CharRnn.Engine.Training;

/// <summary>
/// One of <see cref="TrainingWarnings"/>: words and the settings they name (with the values to set), so that each caller
/// says it in its users' spelling (<see cref="Say"/>): charrnn's flags, the proto's fields, the REPL's keys. The server
/// sends the parts too (Job.warning_parts), so a client names the settings as its own users type them.
/// </summary>
public sealed record TrainingWarning(IReadOnlyList<WarningPart> Parts)
{
    /// <summary>The warning written as <paramref name="text"/>, whose <see cref="WarningPart"/>s stay settings.</summary>
    public static TrainingWarning Of(WarningText text) => new(text.Parts);

    /// <summary>A warning known only as a sentence (one stored before warnings had parts): said as it is, whatever the spelling.</summary>
    public static TrainingWarning Sentence(string text) => new([WarningPart.Text(text)]);

    public string Say(TrainingSettingNames names) => string.Concat(Parts.Select(p => p.Say(names)));
}
