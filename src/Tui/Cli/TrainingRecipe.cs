using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// A named set of train settings (charrnn train --recipe NAME, the REPL's train recipe=NAME): flags or keys given beside it override it.
/// The defaults train one epoch at a constant rate, a quick first run; the lesson's LSTM trains with
/// the lesson's whole schedule (README, "Training") with one word, and archs and train --help show its flags.
/// </summary>
public sealed record TrainingRecipe(string Name, string Architecture, bool Lowercase, int Epochs, string Schedule, int MinFrequency)
{
    /// <summary>
    /// The lesson's stateful LSTM: lowercased text, characters seen fewer than 3 times dropped, and its three fits
    /// (at the architecture's lr 1e-2 and wd 1e-5): 2 epochs at a constant rate, SGDR over 15 (cycles of 1, 2, 4, 8),
    /// then a fresh SGDR over 63 (1 … 32): 80 epochs in all.
    /// </summary>
    public static readonly TrainingRecipe Lesson = new("lesson", "stateful-lstm", Lowercase: true, Epochs: 80,
        Schedule: "constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2", MinFrequency: 3);

    public static IReadOnlyList<TrainingRecipe> All { get; } = [Lesson];

    /// <summary>
    /// The recipe of that name, or null: matched exactly, as architectures' names are, on the command line and in the REPL alike
    /// (an unknown name's error suggests the right case).
    /// </summary>
    public static TrainingRecipe? Named(string? name) => All.FirstOrDefault(r => r.Name == name);

    /// <summary>The flags it stands for, as charrnn train takes them (a schedule with phases holds ';' and spaces: quoted for the shell, so they can be pasted).</summary>
    public string Flags => $"{(Lowercase ? "--lower " : "")}--epochs {Epochs} --schedule {ShellWord.Of(Schedule)} --min-freq {MinFrequency}";

    /// <summary>
    /// The flags of it that charrnn lr-find takes: its text settings, not its epochs or schedule (a search counts its
    /// own steps and sets the rate itself).
    /// </summary>
    public string SearchFlags => $"{(Lowercase ? "--lower " : "")}--min-freq {MinFrequency}";

    /// <summary>The same settings as the REPL's train keys.</summary>
    public string Keys => $"{(Lowercase ? "lower=true " : "")}epochs={Epochs} schedule={Repl.CommandParser.Word(Schedule)} min_freq={MinFrequency}";

    public string Command => $"charrnn train {Architecture} {Flags}";

    /// <summary>The recipe's settings under <paramref name="options"/>' others; flags given are applied after.</summary>
    public TrainingOptions Apply(TrainingOptions options) =>
        options with { Lowercase = Lowercase, Epochs = Epochs, Schedule = Schedule, MinFrequency = MinFrequency };

    /// <summary>Each recipe with its architecture and its settings, as <paramref name="settings"/> writes them (flags or keys).</summary>
    public static string KnownAs(Func<TrainingRecipe, string> settings) => string.Join("; ", All.Select(r => $"{r.Name} ({r.Architecture} {settings(r)})"));
}
