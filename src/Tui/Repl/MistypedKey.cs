using CharRnn.Engine.Text;

namespace CharRnn.Tui.Repl;

/// <summary>
/// " Did you mean 'temperature'?" for a key a command does not take: a slip of a letter or two (<see cref="ClosestName"/>), or else
/// the start of one key's name only, as a key cut short is typed (temp= for temperature=, epo= for epochs=, n_hid= for n_hidden=),
/// which is too many letters from its key for a slip.
/// </summary>
public static class MistypedKey
{
    public static string Suggestion(string typed, IEnumerable<string> keys)
    {
        var known = keys.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (ClosestName.Suggestion(typed, known) is { Length: > 0 } slip) return slip;
        // Three letters at least: "e" or "mi" starts too many keys to be a guess worth making.
        return typed.Length >= 3 && known.Where(k => k.Length > typed.Length && k.StartsWith(typed, StringComparison.OrdinalIgnoreCase)).ToList() is [var only]
            ? $" Did you mean '{only}'?" : "";
    }
}
