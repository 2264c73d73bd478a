namespace CharRnn.Tui.Cli;

/// <summary>
/// The flags that train stateful-lstm as the lesson does (README, "Training"). The defaults train one
/// epoch at a constant rate, a quick first run; a user who reads "the lesson's best model" in archs
/// looks for how the lesson trained it there and in train --help, not only in the README.
/// </summary>
public static class LessonRecipe
{
    public const string Architecture = "stateful-lstm";
    public const string Flags = "--lower --epochs 15 --schedule sgdr:cycle_len=1,cycle_mult=2 --min-freq 3";
    public const string Command = $"charrnn train {Architecture} {Flags}";
}
