using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// Who may read the keys file, kept across a rewrite (as vipw and htpasswd keep it): the new copy gets the
/// old one's mode, owner and group before it replaces it. Otherwise `charrnn keys add` run as root on a file
/// a server reads as its own user (User=charrnn) would leave a root-owned copy that server cannot read, and
/// it would refuse every call. A new keys file is 0600, whatever the umask: it lists who may use the server.
/// </summary>
public sealed class KeysFilePermissions
{
    public const UnixFileMode NewFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly UnixFileMode _mode;
    private readonly (uint Uid, uint Gid)? _owner; // null: a new file, or an owner this system cannot read
    private readonly bool _ownerUnread; // the old file's owner should have been read (Linux) but statx failed

    private KeysFilePermissions(UnixFileMode mode, (uint, uint)? owner, bool ownerUnread = false)
    {
        _mode = mode;
        _owner = owner;
        _ownerUnread = ownerUnread;
    }

    /// <summary>The permissions the keys file at <paramref name="path"/> has now, or a new file's.</summary>
    public static KeysFilePermissions Of(string path) => Of(path, Owner.Of);

    /// <param name="ownerOf">Reads the old file's owner: the system's, or in tests one whose statx fails.</param>
    internal static KeysFilePermissions Of(string path, Func<string, (uint Uid, uint Gid)?> ownerOf)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path)) return new(NewFileMode, null);
        var owner = ownerOf(path);
        return new(File.GetUnixFileMode(path), owner, ownerUnread: owner == null && OperatingSystem.IsLinux());
    }

    /// <summary>
    /// Puts the permissions on the new copy (open as <paramref name="handle"/>, not yet renamed over the old).
    /// Returns what could not be kept, in words, or null: only root may give a file to another user.
    /// </summary>
    public string? ApplyTo(SafeFileHandle handle, string path) => ApplyTo(handle, path, Owner.Of);

    /// <param name="ownerOf">Reads the new copy's owner: the system's, or in tests one that fails.</param>
    /// <param name="change">Gives the copy to a user and group (fchown); in tests one that is refused, as it is to a user not root.</param>
    internal string? ApplyTo(SafeFileHandle handle, string path, Func<SafeFileHandle, (uint Uid, uint Gid)?> ownerOf,
        Func<SafeFileHandle, uint, uint, bool>? change = null)
    {
        if (OperatingSystem.IsWindows()) return null;
        change ??= Owner.Change;
        string? lost = null;
        if (_ownerUnread)
            // statx refused (a C library older than glibc 2.28, a seccomp filter): the copy stays ours, which as root breaks a server reading it as its own user.
            lost = $"Keys file {path}: its owner and group could not be read (statx failed), so the rewritten file is now owned by this user and its group, " +
                   $"whoever owned it before. A server that reads it as another user may be unable to; check its owner with ls -l {path} " +
                   "and chown it back to the server's user or group if needed.";
        else if (_owner is var (uid, gid))
        {
            // A copy whose owner cannot be read is given to the old one all the same: skipping it would leave it ours, unsaid.
            var now = ownerOf(handle);
            if (now?.Uid == uid && now?.Gid != gid && !change(handle, uid, gid))
                // The file's own user, outside its group: only the group is lost, and running as that user again would not help.
                lost = $"Keys file {path} was owned by user {uid}, group {gid}; this user (uid {uid}) is not in group {gid} and cannot give the rewritten " +
                       $"file to it, so it is now owned by user {uid}, group {now?.Gid}. A server that reads it as a member of group {gid} may be unable to; " +
                       $"run charrnn keys as root or as a user in group {gid}, or chgrp {gid} {path}.";
            else if (now?.Uid != uid && !change(handle, uid, gid))
            {
                // A user may still give the file to a group they are in.
                var groupKept = now?.Gid == gid || change(handle, unchecked((uint)-1), gid);
                var (who, owned) = now is var (newUid, newGid)
                    ? ($"this user (uid {newUid})", $"user {newUid}, group {(groupKept ? gid : newGid)}")
                    : ("this user", groupKept ? $"this user, group {gid}" : "this user and its group");
                lost = $"Keys file {path} was owned by user {uid}, group {gid}; {who} cannot give the rewritten file to user {uid}"
                       + (groupKept ? "" : $" or group {gid}") + $", so it is now owned by {owned}. " +
                       $"A server that reads it as user {uid} may be unable to; run charrnn keys as root or as user {uid}, or chown {uid}:{gid} {path}.";
            }
        }
        File.SetUnixFileMode(handle, _mode); // after chown, which may clear set-id bits; fchmod ignores the umask
        return lost;
    }

    /// <summary>A file's owner and group (Linux: statx, whose layout is the same on every architecture).</summary>
    private static class Owner
    {
        private const int AtFdCwd = -100, AtEmptyPath = 0x1000, StatxUid = 0x8, StatxGid = 0x10;
        private const int UidOffset = 20, GidOffset = 24; // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid, u32 gid
        private const int StatxSize = 256;

        public static (uint, uint)? Of(string path) => Stat(AtFdCwd, path, 0);

        public static (uint, uint)? Of(SafeFileHandle handle)
        {
            var added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                return Stat((int)handle.DangerousGetHandle(), "", AtEmptyPath);
            }
            finally { if (added) handle.DangerousRelease(); }
        }

        public static bool Change(SafeFileHandle handle, uint uid, uint gid)
        {
            var added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                return fchown((int)handle.DangerousGetHandle(), uid, gid) == 0;
            }
            finally { if (added) handle.DangerousRelease(); }
        }

        private static (uint, uint)? Stat(int dirFd, string path, int flags)
        {
            if (!OperatingSystem.IsLinux()) return null; // elsewhere only the mode is kept
            var buffer = new byte[StatxSize];
            try
            {
                if (statx(dirFd, path, flags, StatxUid | StatxGid, buffer) != 0) return null;
            }
            catch (EntryPointNotFoundException) { return null; } // a C library older than glibc 2.28
            return (BitConverter.ToUInt32(buffer, UidOffset), BitConverter.ToUInt32(buffer, GidOffset));
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mask, byte[] buffer);

        [DllImport("libc", SetLastError = true)]
        private static extern int fchown(int fd, uint owner, uint group);
    }
}
