using System.Text.RegularExpressions;
using CharRnn.ModelServer.Hosting;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Errors;

/// <summary>
/// Takes the server's own file paths out of messages meant for its callers: on a server with API
/// keys a caller should learn what went wrong, not how the host's disks are laid out. The server's
/// folders become &lt;models&gt;, &lt;corpora&gt; and &lt;corpus cache&gt;; any other absolute path
/// (a Windows drive's and a UNC share's too, and one with spaces where it is quoted) keeps only its
/// last part (…/nietzsche.txt). Admins, and everyone on a keyless loopback server
/// (the local user), see messages whole; the server's log always has them whole.
/// </summary>
public sealed partial class PathRedaction
{
    private readonly (Regex Root, string Name)[] _roots;

    public PathRedaction(IOptions<ServerOptions> options)
    {
        var o = options.Value;
        Enabled = o.KeysFile != null;
        _roots = new[] { (o.ModelsDirectory, "<models>"), (o.CorporaDirectory, "<corpora>"), (o.CorpusCacheDirectory, "<corpus cache>") }
            .Where(r => !string.IsNullOrEmpty(r.Item1))
            .Select(r => (Path.TrimEndingDirectorySeparator(Path.GetFullPath(r.Item1!)), r.Item2))
            .OrderByDescending(r => r.Item1.Length) // a folder inside another is replaced first
            // The folder itself, whole: not a longer name that starts with it (/srv/models-old), nor one that ends with it (/srv/models for /models).
            .Select(r => (new Regex(@"(?<![\w.~:/\\-])" + Regex.Escape(r.Item1) + @"(?![\w-]|\.[\w-])", RegexOptions.CultureInvariant), r.Item2))
            .ToArray();
    }

    /// <summary>True on a server with API keys, where callers other than admins get redacted messages.</summary>
    public bool Enabled { get; }

    /// <summary><paramref name="message"/> as a caller who is not an admin may read it.</summary>
    public string ForCaller(string message, bool admin) => Enabled && !admin ? Redact(message) : message;

    /// <summary>The message without the server's paths.</summary>
    public string Redact(string message)
    {
        foreach (var (root, name) in _roots)
            message = root.Replace(message, name);
        message = QuotedAbsolutePath().Replace(message, m => "…" + m.Value[^1]);
        return OtherAbsolutePath().Replace(message, m => "…" + m.Value[^1]);
    }

    // A rooted path's folders (/a/b/, C:\a\b\ or \\host\share\), not a URL's or a relative path's: nothing path-like just before it.
    [GeneratedRegex(@"(?<![\w.~:/\\<>-])(?:/|[A-Za-z]:\\|\\\\)(?:[^\s'""/\\]+[/\\])+")]
    private static partial Regex OtherAbsolutePath();

    // The same in quotes, as the engine's messages give paths, where a folder's name may hold spaces.
    [GeneratedRegex(@"(?<=['""])(?:/|[A-Za-z]:\\|\\\\)(?:[^'""/\\\r\n]+[/\\])+")]
    private static partial Regex QuotedAbsolutePath();
}
