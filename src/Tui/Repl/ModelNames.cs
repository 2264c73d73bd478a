namespace CharRnn.Tui.Repl;

/// <summary>The name a new model gets when none is given: the Models form's and `train`'s alike.</summary>
public static class ModelNames
{
    /// <summary>
    /// BASE-N for the first N that no name in <paramref name="taken"/> has (names may not differ only in case), BASE
    /// cut short where BASE-N would pass the server's 64 characters (SOURCE-tuned for a long source's name).
    /// </summary>
    public static string Free(string baseName, IEnumerable<string?> taken)
    {
        var names = taken.OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        for (var n = 1; ; n++)
            if (Cut(baseName, $"-{n}") is var name && !names.Contains(name)) return name;
    }

    /// <summary>BASE-MMdd-HHmmss, BASE cut short as <see cref="Free"/> cuts it: the name tried when BASE-N ones keep being taken.</summary>
    public static string Stamped(string baseName, DateTime now) =>
        Cut(baseName, "-" + now.ToString("MMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>BASE then SUFFIX, BASE shortened so the whole fits <see cref="MaxLength"/>.</summary>
    private static string Cut(string baseName, string suffix) => baseName[..Math.Min(baseName.Length, MaxLength - suffix.Length)] + suffix;

    /// <summary>The longest model name the server takes (<see cref="ModelServer.TrainedModels.ModelNames.Rule"/>).</summary>
    private const int MaxLength = 64;
}
