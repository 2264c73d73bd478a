namespace CharRnn.Tui.Repl;

/// <summary>
/// The files and folders on this machine a path typed so far can go on to, for Tab after upload, import and export:
/// relative to the folder charrnn runs in, as those commands read them; a folder ends in '/', so Tab goes on into it.
/// </summary>
public static class LocalFiles
{
    /// <summary>Most entries offered from one folder: Tab in a huge one offers these, not every match.</summary>
    private const int Most = 500;

    /// <summary>
    /// Each entry of <paramref name="typed"/>'s folder whose name starts with what follows its last '/', as typed before
    /// it: hidden ones only where that starts with '.', and none a command line would read otherwise (a space or quote
    /// splits or quotes a word, ';' ends the command, '=' makes it a key). A folder that cannot be read offers none.
    /// </summary>
    public static IEnumerable<string> Matching(string typed)
    {
        var slash = typed.LastIndexOf('/');
        var folder = typed[..(slash + 1)];
        var start = typed[(slash + 1)..];
        try
        {
            return new DirectoryInfo(folder.Length == 0 ? "." : folder).EnumerateFileSystemInfos()
                .Where(e => e.Name.StartsWith(start, StringComparison.Ordinal) && (start.StartsWith('.') || !e.Name.StartsWith('.'))
                            && !e.Name.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or ';' or '=' or '\\'))
                .Take(Most) // matches, not entries read: one listed late in a huge folder is still found
                .Select(e => folder + e.Name + (e is DirectoryInfo ? "/" : ""))
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException or ArgumentException) { return []; }
    }
}
