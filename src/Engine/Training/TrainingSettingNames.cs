namespace CharRnn.Engine.Training;

/// <summary>
/// How a caller spells the settings that a <see cref="TrainingWarning"/> names, so that a warning says what the user
/// typed and can change: `--epochs 10` on charrnn's command line, `epochs = 10` (the proto's field names) from the
/// server to any gRPC client, `epochs=10` in the REPL (its own table). <paramref name="Assign"/> goes between a name and
/// its value; with <paramref name="ListsInBrackets"/>, three per-group rates are written as a repeated field's list,
/// [0, 1e-3, 1e-3], else joined by commas.
/// </summary>
public sealed record TrainingSettingNames(string Epochs, string Patience, string LearningRate, string Assign, bool ListsInBrackets)
{
    /// <summary>charrnn train's and resume's flags: --epochs 10, --patience 2, --lr 0,1e-3,1e-3.</summary>
    public static readonly TrainingSettingNames CommandLine = new("--epochs", "--patience", "--lr", " ", ListsInBrackets: false);

    /// <summary>StartJobRequest.options' fields, as the server's other messages name them: epochs = 10, learning_rate = [0, 1e-3, 1e-3].</summary>
    public static readonly TrainingSettingNames Api = new("epochs", "patience", "learning_rate", " = ", ListsInBrackets: true);

    public string NameOf(TrainingSetting setting) => setting switch
    {
        TrainingSetting.Epochs => Epochs,
        TrainingSetting.Patience => Patience,
        TrainingSetting.LearningRate => LearningRate,
        _ => throw new ArgumentOutOfRangeException(nameof(setting), setting, "not a setting a warning names"),
    };

    /// <summary>The setting that this table names <paramref name="name"/>, or null.</summary>
    public TrainingSetting? Named(string name) =>
        Enum.GetValues<TrainingSetting>().Select(s => (TrainingSetting?)s).FirstOrDefault(s => NameOf(s!.Value) == name);

    /// <summary>The setting with one value, or one per layer group (embedding, recurrent, output).</summary>
    public string Say(TrainingSetting setting, IReadOnlyList<string> values) => Say(NameOf(setting), values);

    /// <summary>A setting named <paramref name="name"/> with its values, written as this table writes its own.</summary>
    public string Say(string name, IReadOnlyList<string> values) =>
        name + Assign + (values.Count > 1 && ListsInBrackets ? "[" + string.Join(", ", values) + "]" : string.Join(",", values));
}
