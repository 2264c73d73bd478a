using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CharRnn.Engine.Storage;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// One API key as stored: its name, the SHA-256 of the key (never the key), and its role. A removed
/// key stays as a record of its name (<see cref="Removed"/> set, no hash): what it made on a server
/// still belongs to that name, so a new key takes the name only when asked to (keys add --reuse-name).
/// </summary>
public sealed record ApiKeyEntry(string Name, string Sha256, bool Admin, DateTimeOffset Created, DateTimeOffset? Removed = null)
{
    [System.Text.Json.Serialization.JsonIgnore] // said by "removed"; files written before this carry it as "is_removed", read and ignored
    public bool IsRemoved => Removed != null;
}

/// <summary>
/// The keys file: API keys stored hashed (a key is 32 random bytes, so an unsalted SHA-256 is
/// enough). Written atomically. `charrnn keys add NAME [--admin]` prints a new key once.
/// </summary>
public sealed partial class ApiKeyStore
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull, // "removed" only on removed keys
    };
    private readonly List<ApiKeyEntry> _keys;

    private ApiKeyStore(string path, List<ApiKeyEntry> keys)
    {
        Path = path;
        _keys = keys;
    }

    public string Path { get; }

    /// <summary>
    /// Two entries of a hand-edited file whose names differ only in case, in words, or null. keys add refuses such a
    /// name, but a file holding them still loads: refusing it would refuse every key in it.
    /// </summary>
    public string? CaseClash { get; private init; }

    /// <summary>
    /// Whether <see cref="Load"/> found no file (keys add then makes it). A server reads that as a file it cannot
    /// use for now, not as one emptied of keys: an editor saving by rename leaves it missing for a moment.
    /// </summary>
    public bool FileMissing { get; private init; }

    /// <summary>The keys a server accepts.</summary>
    public IReadOnlyList<ApiKeyEntry> Keys => _keys.Where(k => !k.IsRemoved).ToList();

    public bool HasKeys => _keys.Any(k => !k.IsRemoved);

    /// <summary>Names of removed keys: a server closes their sessions and stops their jobs.</summary>
    public IReadOnlyList<ApiKeyEntry> RemovedKeys => _keys.Where(k => k.IsRemoved).ToList();

    /// <summary>Every entry, kept and removed, in the file's order.</summary>
    public IReadOnlyList<ApiKeyEntry> Entries => _keys;

    /// <summary>A store with no keys, for a file that cannot be read.</summary>
    public static ApiKeyStore Empty(string path) => new(path, []);

    /// <summary>Where and what, in the file's terms (a line and column, a field), not .NET's types.</summary>
    private static string Describe(JsonException e)
    {
        var at = e.LineNumber is { } line ? $" at line {line + 1}, column {e.BytePositionInLine + 1}" : "";
        if (!e.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
            return e.Message.Split(" LineNumber:")[0].Split(" Path:")[0].TrimEnd('.', ' ') + at;
        return e.Path is null or "$" ? "it is not an array" : $"{e.Path} has a value of the wrong kind{at}";
    }

    public static ApiKeyStore Load(string path)
    {
        if (!File.Exists(path)) return new ApiKeyStore(path, []) { FileMissing = true };
        var text = File.ReadAllText(path);
        if (string.IsNullOrWhiteSpace(text))
            throw new InvalidDataException($"Keys file '{path}' is empty. It holds a JSON array of keys ([] for none), as charrnn keys add writes it; fix or remove it.");
        try
        {
            using (var document = JsonDocument.Parse(text)) CheckFields(path, document.RootElement);
            var keys = JsonSerializer.Deserialize<List<ApiKeyEntry>>(text, Json) ?? [];
            Check(path, keys);
            return new ApiKeyStore(path, keys) { CaseClash = CaseClashOf(path, keys) };
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Keys file '{path}' is not valid JSON of keys: {Describe(e)}. It holds a JSON array of keys, as charrnn keys add writes it; fix or remove it.");
        }
    }

    /// <summary>An entry's fields as the file spells them, and the values each takes.</summary>
    private static readonly (string Field, Func<JsonElement, bool> Takes, string Allowed)[] Fields =
    [
        ("name", v => v.ValueKind == JsonValueKind.String, "a string"),
        // A removed entry keeps none: "" as keys remove writes it, or null, as Check has always taken it.
        ("sha256", v => v.ValueKind is JsonValueKind.String or JsonValueKind.Null, "a string of 64 hex digits (\"\" or null once removed)"),
        ("admin", v => v.ValueKind is JsonValueKind.True or JsonValueKind.False, "true or false"),
        ("created", v => v.ValueKind == JsonValueKind.String && v.TryGetDateTimeOffset(out _), "a date and time such as \"2026-12-01T09:30:00+00:00\""),
        ("removed", v => v.ValueKind == JsonValueKind.Null || v.ValueKind == JsonValueKind.String && v.TryGetDateTimeOffset(out _),
            "a date and time such as \"2026-12-01T09:30:00+00:00\", or null"),
    ];

    /// <summary>
    /// Each entry's fields by name, before they are read: a misspelt one ("admn": true) would otherwise be
    /// skipped without a word, and the key would load without the role its line meant to give it.
    /// </summary>
    private static void CheckFields(string path, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Array) return; // said by the read that follows, as before
        var i = 0;
        foreach (var entry in root.EnumerateArray())
        {
            i++;
            if (entry.ValueKind != JsonValueKind.Object) continue;
            var named = entry.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? $" ('{n.GetString()}')" : "";
            var seen = new HashSet<string>(StringComparer.Ordinal);
            // Files written before "removed" alone said it carry "is_removed" beside it, read and ignored; one set by hand
            // to true ("is_removed": false is on every line of such a file) would leave a key meant to be revoked working.
            var removed = entry.TryGetProperty("removed", out var r) && r.ValueKind != JsonValueKind.Null;
            if (entry.TryGetProperty("is_removed", out var flag) && flag.ValueKind != (removed ? JsonValueKind.True : JsonValueKind.False))
                throw new InvalidDataException($"Keys file '{path}': entry {i}{named} has is_removed {Shown(flag)} but {(removed ? "a" : "no")} removed date; " +
                                               "is_removed is no longer read: to remove a key run charrnn keys remove NAME, or delete is_removed " +
                                               "and set removed to the date and sha256 to \"\".");
            foreach (var property in entry.EnumerateObject().Where(p => p.Name != "is_removed"))
            {
                // "admin": false, …, "admin": true would load as an admin (the last is read) while the line reads as one that is not.
                var problem = !seen.Add(property.Name) ? $"has the field '{property.Name}' twice (only the last would be read); give it once"
                    : Fields.FirstOrDefault(f => f.Field == property.Name) is { Field: not null } field
                    ? field.Takes(property.Value) ? null : $"has {field.Field} {Shown(property.Value)}; {field.Field} is {field.Allowed}"
                    : $"has an unknown field '{property.Name}'; allowed: {string.Join(", ", Fields.Select(f => f.Field))}";
                if (problem != null)
                    throw new InvalidDataException($"Keys file '{path}': entry {i}{named} {problem}; fix it, or remove it and add the key again (charrnn keys add NAME).");
            }
        }
    }

    private static string Shown(JsonElement value) => value.GetRawText() is var raw && raw.Length > 40 ? raw[..40] + "…" : raw;

    /// <summary>
    /// Every entry well-formed, or none is used: a hand-edited entry with no or a bad sha256 would
    /// otherwise load, then fail every call with an error that names nothing.
    /// </summary>
    private static void Check(string path, List<ApiKeyEntry> keys)
    {
        for (var i = 0; i < keys.Count; i++)
        {
            var k = keys[i];
            var problem = k is null ? "is null"
                : k.Name is null || !NamePattern().IsMatch(k.Name) ? $"has name '{k.Name}', which is not a key name (1 to 64 letters, digits, '.', '_' or '-')"
                : keys.Take(i).Any(o => o?.Name == k.Name) ? $"repeats the name '{k.Name}'"
                : k.IsRemoved ? (string.IsNullOrEmpty(k.Sha256) ? null : $"('{k.Name}') is marked removed but keeps a sha256")
                : k.Sha256 is null || !Sha256Pattern().IsMatch(k.Sha256) ? $"('{k.Name}') has no sha256 of 64 hex digits"
                : ReservedNames.Contains(k.Name, StringComparer.OrdinalIgnoreCase) ? $"has the reserved name '{k.Name}' (it would own what a server without keys made)"
                : keys.Take(i).FirstOrDefault(o => o is { IsRemoved: false } && string.Equals(o.Sha256, k.Sha256, StringComparison.OrdinalIgnoreCase)) is { } twin
                    ? $"('{k.Name}') has the same key as '{twin.Name}' (a key must name one caller, with one role)"
                : null;
            if (problem != null)
                throw new InvalidDataException($"Keys file '{path}': entry {i + 1} {problem}; fix it, or remove it and add the key again (charrnn keys add NAME).");
        }
    }

    /// <remarks>
    /// A removed entry's name clashes too (what it made keeps that name), but it is no key: only the one in use
    /// can be given another name. Two removed names, with nothing to act on, are not warned of.
    /// </remarks>
    private static string? CaseClashOf(string path, List<ApiKeyEntry> keys)
    {
        for (var j = 1; j < keys.Count; j++)
            if (keys.FindIndex(0, j, k => k.Name != keys[j].Name && string.Equals(k.Name, keys[j].Name, StringComparison.OrdinalIgnoreCase)
                                          && !(k.IsRemoved && keys[j].IsRemoved)) is var i and >= 0)
            {
                var both = $"Keys file {path}: entry {i + 1} ('{keys[i].Name}'{(keys[i].IsRemoved ? ", removed" : "")}) and entry {j + 1} " +
                           $"('{keys[j].Name}'{(keys[j].IsRemoved ? ", removed" : "")}) have names that differ only in case, ";
                if (!keys[i].IsRemoved && !keys[j].IsRemoved)
                    return both + "so logs, metrics and models' owners tell these two callers apart only by case; both keys work, but give one of them " +
                           "another name (charrnn keys remove it, then keys add it under a new name).";
                var inUse = keys[i].IsRemoved ? keys[j].Name : keys[i].Name;
                return both + $"so models' owners, logs and metrics tell '{inUse}' from the removed key's name (kept for what it made) only by case; " +
                       $"'{inUse}' works, but give it another name (charrnn keys remove {inUse}, then keys add it under a new name).";
            }
        return null;
    }

    /// <summary>
    /// Held around a load, change and save of the keys file (charrnn keys add/remove): two at once
    /// would each save their own copy, and the first one's key, already shown, would be lost.
    /// </summary>
    public static IDisposable HoldForChange(string path)
    {
        var lockPath = path + ".lock"; // in the file's folder, which must exist: charrnn keys refuses a missing one rather than make it
        for (var waited = 0; ; waited += 50)
        {
            if (FileLock.TryHoldRemovable(lockPath) is { } held) return held;
            if (waited >= 10_000)
                throw new InvalidOperationException($"Another process has been changing the keys file {path} for 10 s (it holds {lockPath}); try again when it is done.");
            Thread.Sleep(50); // another `charrnn keys add` takes milliseconds
        }
    }

    /// <summary>Creates a key; returns it in clear text (shown once, stored only hashed).</summary>
    /// <param name="reuseName">Give the name of a removed key, and with it what that key made, to this one.</param>
    public string Add(string name, bool admin, bool reuseName = false)
    {
        if (!NamePattern().IsMatch(name))
            throw new ArgumentException($"Key name '{name}' is not allowed; use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        if (ReservedNames.Contains(name, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"Key name '{name}' is reserved: models made without keys (the embedded server, `charrnn serve` with no --keys) belong to '{Caller.Local.Name}', and calls without a key are '{Caller.Anonymous}'. Pick another name.");
        if (_keys.FirstOrDefault(k => k.Name != name && string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase)) is { } clash)
            throw new ArgumentException($"A key named '{clash.Name}'{(clash.IsRemoved ? " (removed, its name kept for what it made)" : "")} exists, and key names may not differ only in case " +
                                        "(in logs, metrics and models' owners two callers would be told apart only by case); pick another name.");
        if (_keys.Any(k => k.Name == name && !k.IsRemoved))
            throw new ArgumentException($"A key named '{name}' exists; remove it first (charrnn keys remove {name}) or pick another name.");
        if (_keys.FirstOrDefault(k => k.Name == name && k.IsRemoved) is { } removed)
        {
            if (!reuseName)
                throw new ArgumentException($"Key name '{name}' belonged to a key removed on {removed.Removed:yyyy-MM-dd HH:mm} UTC, and the models it made on a server still belong to that name. " +
                                            $"Pass --reuse-name to give them to the new key, or pick another name.");
            _keys.Remove(removed);
        }
        var key = "crn_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _keys.Add(new ApiKeyEntry(name, Hash(key), admin, DateTimeOffset.UtcNow));
        Save();
        return key;
    }

    /// <summary>Callers the server names itself: a key of such a name would own what they made.</summary>
    private static readonly string[] ReservedNames = [Caller.Local.Name, Caller.Anonymous];

    /// <summary>Stops accepting the key of <paramref name="name"/>; its name stays, marked removed. False when no such key is in use.</summary>
    public bool Remove(string name)
    {
        var index = _keys.FindIndex(k => k.Name == name && !k.IsRemoved);
        if (index < 0) return false;
        _keys[index] = _keys[index] with { Sha256 = "", Removed = DateTimeOffset.UtcNow };
        Save();
        return true;
    }

    /// <summary>The entry for a presented key, compared in constant time; null when unknown.</summary>
    public ApiKeyEntry? Find(string presented)
    {
        var hash = Convert.FromHexString(Hash(presented));
        ApiKeyEntry? found = null;
        foreach (var k in _keys)
            if (!k.IsRemoved && CryptographicOperations.FixedTimeEquals(hash, Convert.FromHexString(k.Sha256))) found = k;
        return found;
    }

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>What the last change could not keep of the file's owner or group (<see cref="KeysFilePermissions"/>), or null.</summary>
    public string? PermissionsWarning { get; private set; }

    /// <summary>Called with the rewritten copy as soon as it is created, before anything is done to it or written in it (tests read its mode).</summary>
    internal Action<Microsoft.Win32.SafeHandles.SafeFileHandle>? CopyCreated { get; set; }

    private void Save()
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(_keys, Json);
        var permissions = KeysFilePermissions.Of(Path);
        PermissionsWarning = null;
        AtomicFile.Write(Path, stream =>
        {
            CopyCreated?.Invoke(((FileStream)stream).SafeFileHandle);
            PermissionsWarning = permissions.ApplyTo(((FileStream)stream).SafeFileHandle, System.IO.Path.GetFullPath(Path)); // before any key is in it
            stream.Write(bytes);
        }, createMode: KeysFilePermissions.NewFileMode); // owner-only from the start, until ApplyTo gives it the old file's mode
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[0-9A-Fa-f]{64}\z")]
    private static partial Regex Sha256Pattern();
}
