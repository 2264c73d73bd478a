using System.CommandLine;
using CharRnn.Engine.Storage;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Security;

namespace CharRnn.Tui.Cli;

/// <summary>charrnn keys add|list|remove: the API keys a team server accepts (stored hashed; serve --keys FILE).</summary>
public static class KeysCommand
{
    public static Command Create()
    {
        var file = new Option<string>("--keys") { Description = "The keys file (give the same to charrnn serve --keys).", DefaultValueFactory = _ => "keys.json" };
        file.Validators.Add(result =>
        {
            var path = result.GetValueOrDefault<string>();
            if (string.IsNullOrWhiteSpace(path))
                result.AddError("--keys is empty; give the keys file (default: keys.json).");
            else if (Directory.Exists(path))
                result.AddError($"--keys '{path}' is a folder; give the keys file (e.g. {Path.Combine(path, "keys.json")}).");
        });
        var name = new Argument<string>("name") { Description = "Who the key is for, e.g. alice or ci." }.RefusingFlags();
        var admin = new Option<bool>("--admin") { Description = "An admin key sees and may act on every session, job and model." };
        var reuseName = new Option<bool>("--reuse-name") { Description = "Take the name of a removed key, and with it the models it made." };

        var add = new Command("add", "Create a key; it is printed once and stored only as a SHA-256 hash.") { name, admin, reuseName, file };
        add.SetAction(parse =>
        {
            using var change = HoldForChange(parse.GetValue(file)!);
            var store = ApiKeyStore.Load(parse.GetValue(file)!);
            var key = store.Add(parse.GetValue(name)!, parse.GetValue(admin), parse.GetValue(reuseName));
            Console.WriteLine(key);
            Console.Error.WriteLine($"Key for '{parse.GetValue(name)}'{(parse.GetValue(admin) ? " (admin)" : "")} added to {Path.GetFullPath(store.Path)}. " +
                                    "It is shown only now: clients pass it with --token or CHARRNN_TOKEN.");
            if (store.PermissionsWarning is { } addWarning) Console.Error.WriteLine($"charrnn: warning: {addWarning}");
            return 0;
        });

        var json = new Option<bool>("--json") { Description = "Print the keys as a JSON array (name, admin, created, removed) instead of lines." };
        var list = new Command("list", "List the keys (names and roles; keys themselves are not stored).") { file, json };
        list.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) // a mistyped --keys is not an empty keys file
                throw new ArgumentException($"--keys {path} does not exist; create it with charrnn keys add NAME --keys {path}.");
            var store = ApiKeyStore.Load(path);
            if (parse.GetValue(json))
            {
                Console.WriteLine(ScriptJson.Serialize(store.Entries.Select(k => new
                {
                    name = k.Name, admin = k.Admin, created = ScriptJson.Utc(k.Created), removed = k.Removed is { } at ? ScriptJson.Utc(at) : null,
                })));
                return 0;
            }
            if (!store.HasKeys) Console.WriteLine($"No keys {(store.RemovedKeys.Count > 0 ? "in use " : "")}in {store.Path}. Add one: charrnn keys add NAME [--admin]");
            foreach (var k in store.Entries) // local time, as charrnn models shows its dates
                Console.WriteLine($"{k.Name,-20} {(k.Admin ? "admin" : "user"),-6} created {k.Created.LocalDateTime:yyyy-MM-dd HH:mm}" +
                                  (k.Removed is { } removed ? $"  removed {removed.LocalDateTime:yyyy-MM-dd HH:mm}" : ""));
            return 0;
        });

        var removeName = new Argument<string>("name") { Description = "The key to remove." }.RefusingFlags();
        var remove = new Command("remove", "Remove a key: a running server stops accepting it at once, closes its sessions and stops its jobs; its name stays reserved for the models it made.") { removeName, file };
        remove.SetAction(parse =>
        {
            using var change = HoldForChange(parse.GetValue(file)!);
            var store = ApiKeyStore.Load(parse.GetValue(file)!);
            if (!store.Remove(parse.GetValue(removeName)!))
                throw new ArgumentException(store.RemovedKeys.FirstOrDefault(k => k.Name == parse.GetValue(removeName)) is { } gone
                    ? $"Key '{gone.Name}' was removed already, on {gone.Removed!.Value.LocalDateTime:yyyy-MM-dd HH:mm}; charrnn keys list shows the keys in use."
                    : $"No key named '{parse.GetValue(removeName)}' in {store.Path}; charrnn keys list shows them." +
                      ClosestName.Suggestion(parse.GetValue(removeName)!, store.Keys.Select(k => k.Name)));
            Console.WriteLine($"removed {parse.GetValue(removeName)}");
            if (store.PermissionsWarning is { } removeWarning) Console.Error.WriteLine($"charrnn: warning: {removeWarning}");
            Console.Error.WriteLine("Servers using this file refuse the key now and, within two seconds, close its sessions and stop its jobs. " +
                                    $"Its models keep the name '{parse.GetValue(removeName)}'; a new key takes it only with keys add --reuse-name.");
            return 0;
        });

        return new Command("keys", "Manage the API keys of a team server.") { add, list, remove };
    }

    /// <summary>
    /// The keys file held for a change, or --keys refused (exit 2) before a key is made: a folder that is
    /// missing is not made (a typo in it would leave the key where no server reads it), and one that cannot
    /// be written is said in --keys' terms, not as the lock file beside it that could not be made.
    /// </summary>
    private static IDisposable HoldForChange(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (File.Exists(folder))
            throw new ArgumentException($"--keys '{path}' cannot be written: '{folder}' is a file, not a folder; give a keys file in a folder.");
        if (!Directory.Exists(folder))
            throw new ArgumentException($"--keys '{path}' cannot be written: its folder '{folder}' does not exist; create it first (mkdir -p {folder}) or give a keys file in a folder that does.");
        try { return ApiKeyStore.HoldForChange(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !DiskFault.Is(e)) // a full disk is a failed run (exit 1)
        {
            throw new ArgumentException($"--keys '{path}' cannot be written (its lock file, beside it, cannot be made): {e.Message}");
        }
    }
}
