using System.Text.RegularExpressions;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Errors;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// What a model name may be: a plain name, never a path, so nothing can reach outside the models
/// folder (corpus names follow the same rule, and `charrnn train` checks its --name by it); and
/// which model a new name would collide with.
/// </summary>
public static partial class ModelNames
{
    /// <summary>The rule, in the words every refusal of a name uses.</summary>
    public const string Rule = "1 to 64 characters from letters, digits, '.', '_' and '-', starting with a letter or digit";

    /// <summary>INVALID_ARGUMENT unless <paramref name="name"/> is a plain name (no separators, no "..").</summary>
    /// <param name="kind">What the name names, for the message: model, or corpus (same rule).</param>
    public static string Validate(string? name, string field = "model_name", string kind = "model")
    {
        if (string.IsNullOrEmpty(name))
            throw ServerException.Invalid($"{field} is empty; a {kind} name is {Rule}.");
        if (!NamePattern().IsMatch(name))
            throw ServerException.Invalid($"{field} '{Echo.Of(name)}' is not a valid name; a {kind} name is {Rule} (names are not paths).");
        // The server's own files sit beside the model folders (charrnn.db and its journal, charrnn.lock):
        // a folder of such a name would break them (SQLite fails to open a database whose journal is a folder).
        if (kind == "model" && name.StartsWith(ServerFilePrefix, StringComparison.OrdinalIgnoreCase))
            throw ServerException.Invalid($"{field} '{Echo.Of(name)}' is not allowed: names starting with '{ServerFilePrefix}' are kept for the server's own files in the models folder. Pick another name.");
        return name;
    }

    /// <summary>
    /// INVALID_ARGUMENT unless <paramref name="name"/> may name a new model or corpus: <see cref="Validate"/>'s rule,
    /// not a device name Windows reserves (<see cref="WindowsDeviceName"/>), and not ending in '.' (Windows drops a
    /// folder name's final '.', so "gru." and "gru" would be one model folder; a corpus, stored as NAME.txt, would not
    /// meet that, but keeps the one rule). A final space needs no check: <see cref="Rule"/> has no spaces. Only new
    /// names are checked so: a model or upload stored under such a name before (or on a server that never meets
    /// Windows) still loads.
    /// </summary>
    public static string ValidateNew(string? name, string field = "model_name", string kind = "model")
    {
        Validate(name, field, kind);
        if (WindowsDeviceName(name!) is { } device)
            throw ServerException.Invalid($"{field} '{name}' is not allowed: {device} is a device name on Windows ({ReservedRule}), so a {(kind == "model" ? "folder" : "file")} of that name cannot be made or copied there. Pick another name; a {kind} name is {Rule}.");
        if (name!.EndsWith('.'))
            throw ServerException.Invalid($"{field} '{name}' is not allowed: it ends with '.', " + (kind == "model"
                ? $"which Windows drops from a folder's name, so '{name}' and '{name.TrimEnd('.')}' would be one folder there."
                : "which a new model's name may not (Windows drops it from a folder's name), and a corpus name keeps the models' rule.")
                + $" Pick another name; a {kind} name is {Rule}.");
        return name;
    }

    /// <summary>The device names Windows reserves, in the words every refusal of one uses.</summary>
    public const string ReservedRule = "CON, PRN, AUX, NUL, COM1 to COM9 and LPT1 to LPT9, in any case, with or without an extension";

    /// <summary>
    /// The device name Windows reserves that <paramref name="name"/> stands for (as Windows reads it: the part
    /// before the first '.', in any case: "nul.txt" and "Com1" are devices, "console" and "com10" are not), or null.
    /// </summary>
    public static string? WindowsDeviceName(string name)
    {
        var stem = name.Split('.')[0].ToUpperInvariant();
        return stem is "CON" or "PRN" or "AUX" or "NUL"
            || (stem.Length == 4 && (stem.StartsWith("COM", StringComparison.Ordinal) || stem.StartsWith("LPT", StringComparison.Ordinal)) && stem[3] is >= '1' and <= '9')
            ? stem : null;
    }

    /// <summary>The start of the server's own file names in the models folder, which model names may not take.</summary>
    internal const string ServerFilePrefix = "charrnn.";

    /// <summary>Whether <paramref name="name"/> follows <see cref="Rule"/> (a corpus's name: no rule of the models folder's own files applies).</summary>
    public static bool IsName(string name) => NamePattern().IsMatch(name);

    /// <summary>Whether a folder in the models folder has a name the API can reach (a folder made outside the server may not).</summary>
    public static bool IsUsable(string folderName) =>
        NamePattern().IsMatch(folderName) && !folderName.StartsWith(ServerFilePrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The model a new model named <paramref name="name"/> would collide with: one of that name, or of
    /// a name that differs only in case. Names are unique without regard to case so that a models
    /// folder works the same on a case-insensitive file system (Windows, macOS), where both would be one folder.
    /// </summary>
    /// <param name="root">The models folder: the server's, or charrnn train's --models.</param>
    /// <param name="renamed">The model a rename moves (to its own name in another case, say): it is no other model.</param>
    public static string? Taken(string root, string name, string? renamed = null) =>
        Directory.Exists(root)
            ? Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>()
                .Where(n => n != renamed && string.Equals(n, name, StringComparison.OrdinalIgnoreCase) && ModelFolder.HoldsModel(Path.Combine(root, n)))
                .OrderBy(n => n == name ? 0 : 1).FirstOrDefault()
            : null;

    /// <summary>
    /// The message for a new model's name that <see cref="Taken"/> found taken. Resuming or deleting is
    /// offered only to a key that may (<paramref name="writable"/>; null: not known); to another the name is
    /// just taken, without saying whose (models names are one namespace, their owners not everyone's business).
    /// </summary>
    public static string TakenMessage(string name, string taken, bool? writable) => taken != name
        ? $"A model named '{taken}' exists, and names may not differ only in case (on some file systems they are one folder); choose another model_name."
        : writable switch
        {
            true => $"A model named '{name}' exists; choose another model_name, set resume to continue it, or delete it first.",
            false => $"The name '{name}' is taken by a model this key cannot change; choose another model_name.",
            null => $"A model named '{name}' exists; choose another model_name (or, if this key may change it, set resume to continue it).",
        };

    /// <summary>The message for an import's name that <see cref="Taken"/> found taken: an import never replaces a model.</summary>
    public static string ImportTakenMessage(string name, string taken, bool? writable) => taken != name
        ? $"A model named '{taken}' exists, and names may not differ only in case (on some file systems they are one folder); choose another name for the import."
        : writable == false
        ? $"The name '{name}' is taken by a model this key cannot change; choose another name for the import."
        : $"A model named '{name}' exists, and an import never replaces one: delete it first (DeleteModel) or choose another name.";

    /// <summary>
    /// The message for a rename's new name that <see cref="Taken"/> found taken: a rename never replaces a model. Deleting it is
    /// offered as a key's if it may; without keys (<paramref name="by"/> the admin 'local') or outside a server (null: charrnn
    /// rename on a folder) no key asks, and deleting it is plainly offered.
    /// </summary>
    public static string RenameTakenMessage(string newName, string taken, string? by = null) => taken != newName
        ? $"A model named '{taken}' exists, and names may not differ only in case (on some file systems they are one folder); choose another new_name."
        : $"A model named '{newName}' exists, and a rename never replaces one; choose another new_name (or delete that model first{(by == null || Errors.QuotaHolder.IsKeyless(by) ? "" : ", if this key may")}).";

    // \z, not $: $ also matches before a final newline, which would let "name\n" through.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex NamePattern();
}
