using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using Google.Protobuf;

namespace CharRnn.Tui.Repl;

/// <summary>corpora, upload and delete-corpus: the texts the server trains on, and the ones a user sends it.</summary>
public sealed partial class CommandRunner
{
    /// <summary>Bytes per UploadCorpus message: well inside every server's message limit (at least 1 MiB).</summary>
    internal const int UploadPiece = 256 * 1024;

    /// <summary>Files this large get a progress line as they go up; smaller ones are up before one would be read.</summary>
    private const long UploadProgressFrom = 1L << 20;

    private async Task Corpora(CancellationToken ct)
    {
        var corpora = (await client.Catalog.ListCorporaAsync(new ListCorporaRequest(), cancellationToken: ct)).Corpora;
        // On a server without keys every upload is its one user's ("local"): no owner worth a column.
        var owners = corpora.Any(c => c.Owner.Length > 0 && c.Owner != CharRnnClient.OpenServerOwner);
        if (owners) output.Line($"{"NAME",-14} {"OWNER",-10} {"CHARS",12}        DESCRIPTION");
        foreach (var corpus in corpora)
        {
            var owner = owners ? $"{(corpus.Owner.Length > 0 ? corpus.Owner : "-"),-10} " : "";
            output.Line($"{corpus.Name,-14} {owner}{(corpus.Characters > 0 ? $"{SizeOf(corpus),18}  " : corpus.Available || corpus.Sha256 == "" ? "" : "(downloaded on first use) ")}{corpus.Description}");
        }
    }

    /// <summary>
    /// "2,040 chars": a corpus's size in characters (code_points), not the UTF-16 units of its characters field, which
    /// count an emoji beyond U+FFFF twice ("2,460 chars" it said); "2,460 UTF-16 units" from a server older than code_points.
    /// </summary>
    internal static string SizeOf(CorpusInfo corpus) =>
        corpus.CodePoints > 0 || corpus.Characters == 0 ? $"{corpus.CodePoints:N0} chars" : $"{corpus.Characters:N0} UTF-16 units";

    private async Task Upload(Command c, CancellationToken ct)
    {
        var (path, name, replace, size) = UploadOf(c);
        var limit = (await client.Catalog.GetServerInfoAsync(new GetServerInfoRequest(), cancellationToken: ct)).Limits?.MaxCorpusBytes ?? 0;
        if (limit > 0 && size > limit)
            throw new CommandException($"{path} has {size:N0} bytes; this server stores corpora of up to {limit:N0} bytes (max_corpus_bytes, charrnn serve --max-corpus-mb).");
        FileStream file;
        try { file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, UploadPiece); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CommandException($"{path} cannot be read: {e.Message}"); }
        var written = File.GetLastWriteTimeUtc(path);
        CorpusInfo stored;
        await using (file)
        {
            using var call = client.Catalog.UploadCorpus(cancellationToken: ct);
            // A write the call's end cut off (the server refused the upload as it went, or went away) leaves the why to the response.
            var open = await StreamedRequest.TryWriteAsync(call.RequestStream, new UploadCorpusRequest { Header = new UploadCorpusHeader { Name = name, Replace = replace } }, ct);
            var piece = new byte[UploadPiece];
            long sent = 0, shownAt = 0;
            int read;
            while (open && (read = await file.ReadAsync(piece, ct)) > 0)
            {
                if (!(open = await StreamedRequest.TryWriteAsync(call.RequestStream, new UploadCorpusRequest { Data = ByteString.CopyFrom(piece, 0, read) }, ct))) break;
                sent += read;
                if (size >= UploadProgressFrom && (sent - shownAt >= size / 10 || sent == size))
                {
                    output.Line($"upload {name}: {sent:N0} of {size:N0} bytes ({100.0 * sent / size:F0}%)");
                    shownAt = sent;
                }
            }
            if (open)
            {
                // Text that changed as it was read may be torn (part old, part new): the call ends without completing,
                // which the server takes as cancelled, storing nothing.
                if (sent != size || File.GetLastWriteTimeUtc(path) != written)
                    throw new CommandException($"{path} changed while it was being uploaded ({size:N0} bytes when it began); nothing was stored. Upload it again once it is written.");
                await StreamedRequest.TryCompleteAsync(call.RequestStream, ct);
            }
            stored = await call.ResponseAsync;
        }
        output.Line($"{(replace ? "stored" : "uploaded")} {stored.Name}: {SizeOf(stored)} ({size:N0} bytes); train on it with corpus={stored.Name}");
    }

    /// <summary>An upload's file, name and replace flag, checked before anything is sent: --exec checks them before it runs the line.</summary>
    private static (string Path, string Name, bool Replace, long Size) UploadOf(Command c)
    {
        var path = c.Arg(0) ?? throw new CommandException("Usage: " + CommandCatalog.Find("upload")!.Usage);
        if (Directory.Exists(path)) throw new CommandException($"{path} is a folder; upload takes a text file.");
        if (!File.Exists(path)) throw new CommandException($"No file {path}; give the path of a UTF-8 text file.");
        var name = c.Option("name") ?? (Path.GetExtension(path).Equals(".txt", StringComparison.OrdinalIgnoreCase) ? Path.GetFileNameWithoutExtension(path) : Path.GetFileName(path));
        var replace = c.Option("replace") is { } r && OptionValues.Bool("replace", r) != 0;
        var size = new FileInfo(path).Length;
        if (size == 0) throw new CommandException($"{path} is empty; a corpus needs some text to learn from.");
        return (path, name, replace, size);
    }

    /// <summary>The corpus a `delete-corpus` asked about, and when: at the prompt, the same command again within a while confirms it.</summary>
    private (string Corpus, DateTime At)? _deleteCorpusAsked;

    private async Task DeleteCorpus(Command c, CancellationToken ct)
    {
        var name = c.Arg(0) ?? throw new CommandException("Usage: " + CommandCatalog.Find("delete-corpus")!.Usage);
        if (interactive && !(_deleteCorpusAsked is var (asked, at) && asked == name && DateTime.UtcNow - at < DeleteConfirmWithin))
        {
            var listed = (await client.Catalog.ListCorporaAsync(new ListCorporaRequest(), cancellationToken: ct)).Corpora.FirstOrDefault(k => k.Name == name);
            if (listed is { Uploaded: false })
                throw new CommandException($"Corpus '{name}' is one of the server's own, not an upload; its operator removes it from the server's corpora folder.");
            if (listed == null)
                throw new CommandException($"No uploaded corpus '{name}' for this key; corpora lists the ones there are.");
            _deleteCorpusAsked = (name, DateTime.UtcNow);
            output.Line($"delete-corpus {name} removes the uploaded text ({SizeOf(listed)}) for good; models trained on it still generate, but cannot be resumed until the same text is uploaded again under this name: type delete-corpus {name} again within {ConfirmWindow} to confirm.");
            return;
        }
        _deleteCorpusAsked = null;
        await client.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = name }, cancellationToken: ct);
        output.Line($"deleted corpus {name}");
    }
}
