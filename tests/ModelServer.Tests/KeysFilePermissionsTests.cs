using System.Diagnostics;
using CharRnn.ModelServer.Security;

namespace CharRnn.ModelServer.Tests;

/// <summary>keys add/remove rewrite the keys file: who may read it stays as the operator set it.</summary>
public class KeysFilePermissionsTests
{
    [Fact]
    public void Adding_and_removing_a_key_keep_the_files_mode_owner_and_group()
    {
        var path = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            ApiKeyStore.Load(path).Add("ops", admin: true);
            Run("chmod", "640", path);
            // As root (the systemd unit's header runs keys add as root), hand the file to the server's user.
            var owner = Environment.UserName == "root" ? "65534:65534" : Stat("%u:%g", path);
            if (Environment.UserName == "root") Run("chown", owner, path);

            var store = ApiKeyStore.Load(path);
            store.Add("teama", admin: false);
            Assert.Equal($"640 {owner}", Stat("%a %u:%g", path));
            Assert.Null(store.PermissionsWarning);

            Assert.True(ApiKeyStore.Load(path).Remove("teama"));
            Assert.Equal($"640 {owner}", Stat("%a %u:%g", path));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_rewritten_copy_whose_owner_cannot_be_read_is_given_to_the_old_owner_all_the_same()
    {
        if (Environment.UserName != "root") return; // only root may give a file to another user
        var old = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        var copy = old + ".new";
        try
        {
            File.WriteAllText(old, "[]");
            Run("chown", "65534:65534", old);
            var permissions = KeysFilePermissions.Of(old);
            using (var stream = new FileStream(copy, FileMode.CreateNew, FileAccess.Write))
                Assert.Null(permissions.ApplyTo(stream.SafeFileHandle, copy, _ => null)); // its statx failed
            Assert.Equal("65534:65534", Stat("%u:%g", copy)); // was left root's, without a word
        }
        finally
        {
            File.Delete(old);
            File.Delete(copy);
        }
    }

    [Fact]
    public void An_old_file_whose_owner_cannot_be_read_is_warned_of_rather_than_left_ours_without_a_word()
    {
        if (!OperatingSystem.IsLinux()) return; // elsewhere owners are not read at all, as deploy.md says
        var old = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        var copy = old + ".new";
        try
        {
            File.WriteAllText(old, "[]");
            var permissions = KeysFilePermissions.Of(old, _ => null); // its statx failed (old glibc, seccomp)
            using var stream = new FileStream(copy, FileMode.CreateNew, FileAccess.Write);
            var warning = permissions.ApplyTo(stream.SafeFileHandle, copy, _ => null, change: (_, _, _) => throw new InvalidOperationException("no owner to give it to"));
            Assert.Equal($"Keys file {copy}: its owner and group could not be read (statx failed), so the rewritten file is now owned by this user and its group, " +
                         $"whoever owned it before. A server that reads it as another user may be unable to; check its owner with ls -l {copy} " +
                         "and chown it back to the server's user or group if needed.", warning); // was: null, the copy left root's unsaid
        }
        finally
        {
            File.Delete(old);
            File.Delete(copy);
        }
    }

    [Fact]
    public void The_files_own_user_outside_its_group_is_warned_that_the_group_was_lost_not_the_user()
    {
        var old = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        var copy = old + ".new";
        try
        {
            File.WriteAllText(old, "[]");
            var (uid, gid) = (uint.Parse(Stat("%u", old)), uint.Parse(Stat("%g", old)));
            var permissions = KeysFilePermissions.Of(old);
            using var stream = new FileStream(copy, FileMode.CreateNew, FileAccess.Write);
            // The copy is this user's, in its own group; it may not give it to the old file's group (a user outside it may not).
            var warning = permissions.ApplyTo(stream.SafeFileHandle, copy, _ => (uid, gid + 1), change: (_, _, _) => false);
            Assert.Equal($"Keys file {copy} was owned by user {uid}, group {gid}; this user (uid {uid}) is not in group {gid} and cannot give the rewritten " +
                         $"file to it, so it is now owned by user {uid}, group {gid + 1}. A server that reads it as a member of group {gid} may be unable to; " +
                         $"run charrnn keys as root or as a user in group {gid}, or chgrp {gid} {copy}.", warning); // was: cannot give it to user {uid}, run as user {uid}
        }
        finally
        {
            File.Delete(old);
            File.Delete(copy);
        }
    }

    [Fact]
    public void A_new_keys_file_is_readable_by_its_owner_only()
    {
        var path = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            ApiKeyStore.Load(path).Add("ops", admin: true); // under the usual umask 022 a plain write would be 644
            Assert.Equal("600", Stat("%a", path));
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData(null)] // a new file
    [InlineData("644")] // an old one every local user may read: the copy is not, until it is given that mode before any key is in it
    [InlineData("666")]
    public void A_rewritten_keys_file_is_owner_only_from_its_creation(string? oldMode)
    {
        if (OperatingSystem.IsWindows()) return; // no Unix modes
        var path = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            if (oldMode != null)
            {
                ApiKeyStore.Load(path).Add("ops", admin: true);
                Run("chmod", oldMode, path);
            }
            var store = ApiKeyStore.Load(path);
            UnixFileMode? created = null;
            store.CopyCreated = copy => created = OperatingSystem.IsWindows() ? null : File.GetUnixFileMode(copy);
            store.Add("teama", admin: false);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, created); // made with the default mode, it was 644 under umask 022
            Assert.Equal(oldMode ?? "600", Stat("%a", path)); // then the mode the operator gave the file
        }
        finally { File.Delete(path); }
    }

    private static string Stat(string format, string path) => Run("stat", "-c", format, path);

    private static string Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output;
    }
}
