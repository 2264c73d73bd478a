using CharRnn.Engine.Training;
using CharRnn.Protos.V1;

namespace CharRnn.Tui.Repl;

/// <summary>
/// The server's warnings of a job (Job.warnings) in the REPL's words: the settings named as its keys are typed,
/// epochs=10, lr=0,1e-3,1e-3, from the warning's parts (Job.warning_parts), not the proto's `epochs = 10`.
/// </summary>
public static class JobWarningText
{
    /// <summary>The REPL's train and resume keys for the settings a warning names.</summary>
    public static readonly TrainingSettingNames Repl = new("epochs", "patience", "lr", "=", ListsInBrackets: false);

    /// <summary>
    /// Each warning of <paramref name="job"/>: from its parts where the server sent one per warning, else as the server
    /// words it (a server older than Job.warning_parts).
    /// </summary>
    public static IReadOnlyList<string> Of(Job job) =>
        job.WarningParts.Count == job.Warnings.Count ? job.WarningParts.Select(Say).ToList() : job.Warnings.ToList();

    private static string Say(Protos.V1.TrainingWarning warning) => string.Concat(warning.Parts.Select(Say));

    private static string Say(Protos.V1.TrainingWarning.Types.Part part) =>
        part.Setting == "" ? part.Text
        : TrainingSettingNames.Api.Named(part.Setting) is { } setting ? Repl.Say(setting, part.Values)
        : TrainingSettingNames.Api.Say(part.Setting, part.Values); // one a later server names, which this client has no key for: as the proto spells it
}
