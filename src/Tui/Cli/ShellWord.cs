namespace CharRnn.Tui.Cli;

/// <summary>A value written into a command line or a refusal as one shell word, so that it can be pasted back as typed.</summary>
internal static class ShellWord
{
    /// <summary>The value as it is where plainly a word (constant, 1e-3, steps:3=0.1), else in single quotes ('constant,epochs=2; sgdr').</summary>
    public static string Of(string value) =>
        value.Length > 0 && value.All(c => char.IsLetterOrDigit(c) || "-_.,/:=+@%".Contains(c)) ? value : $"'{value.Replace("'", "'\\''")}'";
}
