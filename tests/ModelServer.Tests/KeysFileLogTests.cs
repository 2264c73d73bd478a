using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// The keys file changing under a running server is logged, once per change of its state: reloaded with
/// its key count, missing, broken (why), valid again. Before, a file that went missing was silent, and
/// the only sign was clients told "it has no API keys now".
/// </summary>
public class KeysFileLogTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "charrnn-keys-log-" + Guid.NewGuid().ToString("N")[..8] + ".json");

    [Fact]
    public void Each_change_of_the_keys_files_state_is_logged_once()
    {
        ApiKeyStore.Load(_path).Add("alice", admin: false);
        var log = new ListLogger<AuthInterceptor>();
        var auth = new AuthInterceptor(Microsoft.Extensions.Options.Options.Create(new ServerOptions { KeysFile = _path }),
            new RefusalLog(TimeProvider.System, NullLogger<RefusalLog>.Instance), log);
        auth.Current();
        Assert.Empty(log.Lines); // at start-up SecurityCheck says how many keys there are

        ApiKeyStore.Load(_path).Add("bob", admin: true);
        auth.Current();
        Assert.Equal($"Information: Keys file {_path} reloaded: 2 API key(s); added bob", Assert.Single(log.Lines));

        File.Delete(_path);
        auth.Current();
        auth.Current();
        Assert.Equal($"Warning: The keys file {_path} is missing: every call is refused until it is back (an editor saving by rename leaves it missing for a moment)", log.Lines[^1]);
        Assert.Equal(2, log.Lines.Count);

        File.WriteAllText(_path, "{ not json");
        auth.Current();
        Assert.StartsWith("Error: Every call is refused until the keys file is fixed: ", log.Lines[^1]);

        File.Delete(_path);
        ApiKeyStore.Load(_path).Add("carol", admin: false);
        auth.Current();
        Assert.Equal($"Information: Keys file {_path} is valid again: 1 API key(s); added carol; removed alice, bob", log.Lines[^1]);
        Assert.Equal(4, log.Lines.Count);
    }

    [Fact]
    public void A_reload_names_the_keys_added_removed_and_given_a_new_key()
    {
        var store = ApiKeyStore.Load(_path);
        store.Add("teamA", admin: false);
        store.Add("teamB", admin: false);
        var log = new ListLogger<AuthInterceptor>();
        var auth = new AuthInterceptor(Microsoft.Extensions.Options.Options.Create(new ServerOptions { KeysFile = _path }),
            new RefusalLog(TimeProvider.System, NullLogger<RefusalLog>.Instance), log);
        auth.Current();

        store = ApiKeyStore.Load(_path);
        store.Remove("teamB");
        store.Add("teamC", admin: false);
        store.Add("teamD", admin: true);
        store.Remove("teamA");
        store.Add("teamA", admin: false, reuseName: true); // rotated: same name, another key
        auth.Current();
        Assert.Equal($"Information: Keys file {_path} reloaded: 3 API key(s); added teamC, teamD; removed teamB; new key for teamA", Assert.Single(log.Lines));

        File.SetLastWriteTimeUtc(_path, DateTime.UtcNow.AddMinutes(1)); // touched, the same keys
        auth.Current();
        Assert.Equal($"Information: Keys file {_path} reloaded: 3 API key(s)", log.Lines[^1]);
    }

    [Fact]
    public void A_hand_edited_file_with_two_names_differing_only_in_case_loads_and_the_log_names_both()
    {
        var store = ApiKeyStore.Load(_path);
        store.Add("alice", admin: false);
        store.Add("bob", admin: false);
        File.WriteAllText(_path, File.ReadAllText(_path).Replace("\"bob\"", "\"Alice\"")); // keys add refuses that name; an editor does not
        var log = new ListLogger<AuthInterceptor>();
        var auth = new AuthInterceptor(Microsoft.Extensions.Options.Options.Create(new ServerOptions { KeysFile = _path }),
            new RefusalLog(TimeProvider.System, NullLogger<RefusalLog>.Instance), log);
        Assert.Null(auth.Current().Problem);
        Assert.Equal(2, auth.Current().Keys.Keys.Count); // both keys still work
        Assert.Equal($"Warning: Keys file {_path}: entry 1 ('alice') and entry 2 ('Alice') have names that differ only in case, " +
                     "so logs, metrics and models' owners tell these two callers apart only by case; both keys work, but give one of them " +
                     "another name (charrnn keys remove it, then keys add it under a new name).", Assert.Single(log.Lines));
    }

    // A relative --keys is read from the server's working folder (a unit's WorkingDirectory), which no log line says:
    // the start line and the reloads name the file in full, so an operator knows which file the server reads.
    [Fact]
    public void A_relative_keys_file_is_named_in_full_at_start_and_at_a_reload()
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, _path);
        Assert.False(Path.IsPathRooted(relative));
        ApiKeyStore.Load(_path).Add("alice", admin: false);
        var options = Microsoft.Extensions.Options.Options.Create(new ServerOptions { KeysFile = relative });
        var log = new ListLogger<AuthInterceptor>();
        var auth = new AuthInterceptor(options, new RefusalLog(TimeProvider.System, NullLogger<RefusalLog>.Instance), log);
        var startLog = new ListLogger<SecurityCheck>();
        new SecurityCheck(options, auth, new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), startLog, null!, null!)
            .StartAsync(CancellationToken.None);
        Assert.Equal($"Information: Authentication is on: 1 API key(s) in {_path}", Assert.Single(startLog.Lines));

        ApiKeyStore.Load(_path).Add("bob", admin: true);
        auth.Current();
        Assert.Equal($"Information: Keys file {_path} reloaded: 2 API key(s); added bob", Assert.Single(log.Lines));
        File.Delete(_path);
        auth.Current();
        Assert.StartsWith($"Warning: The keys file {_path} is missing", log.Lines[^1]);
    }

    public void Dispose() => File.Delete(_path);
}
