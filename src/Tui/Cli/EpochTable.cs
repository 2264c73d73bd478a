using System.Globalization;

namespace CharRnn.Tui.Cli;

/// <summary>
/// A model's epoch history as rows, the same at the REPL's `info` (from the server's records) and at
/// `charrnn models NAME` (from the checkpoint's): one wording for one table.
/// </summary>
public static class EpochTable
{
    public static string Header => $"  {"epoch",5} {"step",9} {"train",7} {"val",7} {"acc",6} {"lr",8} {"time",8}";

    public static string Row(int epoch, long step, double trainLoss, double validLoss, double validAccuracy, double learningRate, double elapsedSeconds) =>
        string.Create(CultureInfo.InvariantCulture,
            $"  {epoch,5} {step,9:N0} {trainLoss,7:F4} {validLoss,7:F4} {validAccuracy,6:P1} {learningRate,8:0.0e+0} {Durations.Format(TimeSpan.FromSeconds(elapsedSeconds)),8}");
}
