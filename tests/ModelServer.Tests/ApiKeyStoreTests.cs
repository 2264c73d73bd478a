using CharRnn.ModelServer.Security;

namespace CharRnn.ModelServer.Tests;

/// <summary>The keys file as an admin may hand-edit it: a bad entry is refused at load, naming it.</summary>
public class ApiKeyStoreTests
{
    [Theory]
    [InlineData("[{\"name\": bob}]", "'b' is an invalid start of a value at line 1, column 11")]
    [InlineData("""{"name": "bob"}""", "it is not an array")]
    public void A_file_that_is_not_json_of_keys_is_refused_saying_where_in_its_own_terms(string json, string problem)
    {
        var (path, message) = Refused(json);
        Assert.Equal($"Keys file '{path}' is not valid JSON of keys: {problem}. It holds a JSON array of keys, as charrnn keys add writes it; fix or remove it.", message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n")]
    public void An_empty_file_is_refused_saying_it_is_empty(string text)
    {
        var (path, message) = Refused(text);
        Assert.Equal($"Keys file '{path}' is empty. It holds a JSON array of keys ([] for none), as charrnn keys add writes it; fix or remove it.", message);
    }

    /// <summary>Loads a keys file of <paramref name="json"/>: its path, and the load's error.</summary>
    private static (string Path, string Message) Refused(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            File.WriteAllText(path, json);
            return (path, Assert.Throws<InvalidDataException>(() => ApiKeyStore.Load(path)).Message);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("""[{"name": "bob", "admin": false}]""", "entry 1 ('bob') has no sha256 of 64 hex digits")]
    [InlineData("""[{"name": "bob", "sha256": "not-hex", "admin": false}]""", "entry 1 ('bob') has no sha256 of 64 hex digits")]
    [InlineData("""[{"name": "bad name", "sha256": "00", "admin": false}]""", "entry 1 has name 'bad name', which is not a key name")]
    [InlineData("""[null]""", "entry 1 is null")]
    // A misspelt or mistyped field is named, with what the file allows, instead of skipped or reported as .NET's type error.
    [InlineData("""[{"name": "teamA", "sha265": "00", "admin": false}]""", "entry 1 ('teamA') has an unknown field 'sha265'; allowed: name, sha256, admin, created, removed;")]
    [InlineData("""[{"admn": true, "name": "ops"}]""", "entry 1 ('ops') has an unknown field 'admn'; allowed: name, sha256, admin, created, removed;")]
    [InlineData("""[{"name": "bob", "admin": "yes"}]""", "entry 1 ('bob') has admin \"yes\"; admin is true or false;")]
    [InlineData("""[{"name": "bob", "created": "yesterday"}]""", "entry 1 ('bob') has created \"yesterday\"; created is a date and time such as \"2026-12-01T09:30:00+00:00\";")]
    [InlineData(""""[{"name": "ops", "sha256": "0000000000000000000000000000000000000000000000000000000000000000", "admin": false, "admin": true}]"""",
        "entry 1 ('ops') has the field 'admin' twice (only the last would be read); give it once;")] // was: loaded as an admin, the line reading as not one
    [InlineData("""[{"name": "bob", "sha256": "0000000000000000000000000000000000000000000000000000000000000000", "admin": false, "removed": "2026-12-01T00:00:00Z"}]""",
        "entry 1 ('bob') is marked removed but keeps a sha256")]
    [InlineData(""""[{"name": "Local", "sha256": "0000000000000000000000000000000000000000000000000000000000000000", "admin": false}]"""",
        "entry 1 has the reserved name 'Local'")] // hand-written: keys add refuses it too
    [InlineData(""""[{"name": "ops", "sha256": "00000000000000000000000000000000000000000000000000000000000000aa", "admin": true}, {"name": "alice", "sha256": "00000000000000000000000000000000000000000000000000000000000000AA", "admin": false}]"""",
        "entry 2 ('alice') has the same key as 'ops'")] // a line copied with only its name changed: which role would the key have?
    public void A_malformed_entry_is_refused_at_load_naming_it(string json, string problem)
    {
        var (path, message) = Refused(json);
        Assert.StartsWith($"Keys file '{path}': {problem}", message);
        Assert.EndsWith("fix it, or remove it and add the key again (charrnn keys add NAME).", message);
    }

    [Theory]
    [InlineData("local")]     // owns what was made without keys: a key of that name would own it all
    [InlineData("Anonymous")] // a call without a key
    public void The_names_the_server_gives_callers_are_refused_as_key_names(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            var e = Assert.Throws<ArgumentException>(() => ApiKeyStore.Load(path).Add(name, admin: false));
            Assert.Contains($"Key name '{name}' is reserved", e.Message);
            Assert.False(File.Exists(path)); // nothing saved
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Two_entries_of_one_name_are_refused()
    {
        var path = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            var store = ApiKeyStore.Load(path);
            store.Add("alice", admin: false);
            var text = File.ReadAllText(path);
            File.WriteAllText(path, text.TrimEnd().TrimEnd(']') + "," + text.Trim().TrimStart('[')); // the entry twice
            var e = Assert.Throws<InvalidDataException>(() => ApiKeyStore.Load(path));
            Assert.Contains("entry 2 repeats the name 'alice'", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_removed_keys_name_stays_taken_until_a_new_key_is_told_to_reuse_it()
    {
        var path = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            var bobKey = ApiKeyStore.Load(path).Add("bob", admin: true);
            Assert.True(ApiKeyStore.Load(path).Remove("bob"));
            var store = ApiKeyStore.Load(path);
            Assert.Null(store.Find(bobKey));
            Assert.False(store.HasKeys);
            Assert.Equal("bob", Assert.Single(store.RemovedKeys).Name);
            Assert.DoesNotContain(ApiKeyStore.Hash(bobKey), File.ReadAllText(path)); // the hash goes with the key
            Assert.False(store.Remove("bob")); // already removed

            var e = Assert.Throws<ArgumentException>(() => store.Add("bob", admin: false));
            Assert.Contains("belonged to a key removed on", e.Message);
            Assert.Contains("--reuse-name", e.Message);

            var newKey = ApiKeyStore.Load(path).Add("bob", admin: false, reuseName: true);
            var reused = ApiKeyStore.Load(path);
            Assert.Empty(reused.RemovedKeys);
            var entry = reused.Find(newKey);
            Assert.NotNull(entry);
            Assert.False(entry.Admin);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_name_that_differs_from_a_keys_name_only_in_case_is_refused_naming_that_key()
    {
        var path = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            ApiKeyStore.Load(path).Add("teamA", admin: false);
            ApiKeyStore.Load(path).Add("teamB", admin: false);
            Assert.True(ApiKeyStore.Load(path).Remove("teamB"));
            var e = Assert.Throws<ArgumentException>(() => ApiKeyStore.Load(path).Add("teama", admin: false));
            Assert.Equal("A key named 'teamA' exists, and key names may not differ only in case (in logs, metrics and models' owners two callers would be told apart only by case); pick another name.", e.Message);
            var removed = Assert.Throws<ArgumentException>(() => ApiKeyStore.Load(path).Add("TEAMB", admin: false, reuseName: true));
            Assert.StartsWith("A key named 'teamB' (removed, its name kept for what it made) exists, and key names may not differ only in case", removed.Message);
            Assert.Equal(["teamA"], ApiKeyStore.Load(path).Keys.Select(k => k.Name)); // nothing saved
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_removed_entry_whose_sha256_is_null_loads_as_it_did_before_fields_were_checked()
    {
        var path = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            File.WriteAllText(path, """[{"name": "bob", "sha256": null, "admin": false, "created": "2026-12-01T00:00:00Z", "removed": "2026-12-02T00:00:00Z"}]""");
            Assert.Equal("bob", Assert.Single(ApiKeyStore.Load(path).RemovedKeys).Name); // was refused: "has sha256 null; sha256 is a string of 64 hex digits"
            File.WriteAllText(path, """[{"name": "bob", "sha256": null, "admin": false}]""");
            Assert.Contains("entry 1 ('bob') has no sha256 of 64 hex digits", Assert.Throws<InvalidDataException>(() => ApiKeyStore.Load(path)).Message); // a key in use needs one
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void An_old_files_is_removed_set_by_hand_to_true_is_refused_rather_than_leaving_the_key_working()
    {
        var hash = new string('0', 64);
        var (path, message) = Refused($$"""[{"name": "bob", "sha256": "{{hash}}", "admin": false, "created": "2026-12-01T00:00:00Z", "is_removed": true}]""");
        Assert.Equal($"Keys file '{path}': entry 1 ('bob') has is_removed true but no removed date; is_removed is no longer read: to remove a key run " +
                     "charrnn keys remove NAME, or delete is_removed and set removed to the date and sha256 to \"\".", message); // was: loaded, bob's key working

        // As older versions wrote it, it still loads.
        var old = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            File.WriteAllText(old, $$"""[{"name": "bob", "sha256": "{{hash}}", "admin": false, "created": "2026-12-01T00:00:00Z", "is_removed": false}, {"name": "eve", "sha256": "", "admin": false, "created": "2026-12-01T00:00:00Z", "removed": "2026-12-02T00:00:00Z", "is_removed": true}]""");
            var store = ApiKeyStore.Load(old);
            Assert.Equal(["bob"], store.Keys.Select(k => k.Name));
            Assert.Equal(["eve"], store.RemovedKeys.Select(k => k.Name));
        }
        finally { File.Delete(old); }
    }

    [Fact]
    public void A_case_clash_with_a_removed_keys_name_is_warned_of_as_such_and_two_removed_names_not_at_all()
    {
        var path = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            // Before keys add refused a name differing only in case, removing 'Alice' then adding 'alice' made such a file.
            var hash = new string('0', 64);
            File.WriteAllText(path, $$"""[{"name": "Alice", "sha256": "", "admin": false, "created": "2026-12-01T00:00:00Z", "removed": "2026-12-02T00:00:00Z"}, {"name": "alice", "sha256": "{{hash}}", "admin": false, "created": "2026-12-03T00:00:00Z"}]""");
            Assert.Equal($"Keys file {path}: entry 1 ('Alice', removed) and entry 2 ('alice') have names that differ only in case, so models' owners, " +
                         "logs and metrics tell 'alice' from the removed key's name (kept for what it made) only by case; 'alice' works, but give it " +
                         "another name (charrnn keys remove alice, then keys add it under a new name).", ApiKeyStore.Load(path).CaseClash);

            File.WriteAllText(path, File.ReadAllText(path).Replace($"\"sha256\": \"{hash}\", \"admin\": false, \"created\": \"2026-12-03T00:00:00Z\"",
                "\"sha256\": \"\", \"admin\": false, \"created\": \"2026-12-03T00:00:00Z\", \"removed\": \"2026-12-04T00:00:00Z\""));
            Assert.Equal(2, ApiKeyStore.Load(path).RemovedKeys.Count);
            Assert.Null(ApiKeyStore.Load(path).CaseClash); // neither is a caller, and a removed name cannot be changed
        }
        finally { File.Delete(path); }
    }
}
