namespace CharRnn.Tui.Repl;

/// <summary>The name a new model gets when none is given: the Models form's and `train`'s alike.</summary>
public static class ModelNames
{
    /// <summary>ARCH-N for the first N that no name in <paramref name="taken"/> has (names may not differ only in case).</summary>
    public static string Free(string architecture, IEnumerable<string?> taken)
    {
        var names = taken.OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        for (var n = 1; ; n++)
            if (!names.Contains($"{architecture}-{n}")) return $"{architecture}-{n}";
    }
}
