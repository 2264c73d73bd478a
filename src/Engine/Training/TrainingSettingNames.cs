using System.Globalization;

namespace CharRnn.Engine.Training;

/// <summary>
/// How a caller spells the settings that <see cref="TrainingWarnings"/> name, so that a warning says what the user
/// typed and can change: `--epochs 10` on charrnn's command line, `epochs = 10` (the proto's field names) from the
/// server to any gRPC client. <paramref name="Assign"/> goes between a name and its value; with
/// <paramref name="ListsInBrackets"/>, three per-group rates are written as a repeated field's list, [0, 1e-3, 1e-3].
/// </summary>
public sealed record TrainingSettingNames(string Epochs, string Patience, string LearningRate, string Assign, bool ListsInBrackets)
{
    /// <summary>charrnn train's and resume's flags: --epochs 10, --patience 2, --lr 0,1e-3,1e-3.</summary>
    public static readonly TrainingSettingNames CommandLine = new("--epochs", "--patience", "--lr", " ", ListsInBrackets: false);

    /// <summary>StartJobRequest.options' fields, as the server's other messages name them: epochs = 10, learning_rate = [0, 1e-3, 1e-3].</summary>
    public static readonly TrainingSettingNames Api = new("epochs", "patience", "learning_rate", " = ", ListsInBrackets: true);

    /// <summary>The epochs setting with <paramref name="value"/> (a number, or "7 or 15").</summary>
    public string EpochsAre(string value) => Epochs + Assign + value;

    public string PatienceIs(int value) => Patience + Assign + value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The rate setting with one value, or one per layer group (embedding, recurrent, output).</summary>
    public string RateIs(params string[] values) =>
        LearningRate + Assign + (values.Length > 1 && ListsInBrackets ? "[" + string.Join(", ", values) + "]" : string.Join(",", values));
}
