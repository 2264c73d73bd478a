using CharRnn.ModelServer.Corpora;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.TrainedModels;
using Grpc.Core;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>UploadCorpus and DeleteCorpus: corpora a key sends to train on, kept by name until deleted.</summary>
public sealed partial class CatalogService
{
    public override async Task<Api.CorpusInfo> UploadCorpus(IAsyncStreamReader<Api.UploadCorpusRequest> requestStream, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var cancel = context.CancellationToken;
        if (!await requestStream.MoveNext(cancel))
            throw ServerException.Invalid("The upload sent no messages; send a header (the corpus name) first, then the text as data.", field: "header");
        if (requestStream.Current.PartCase != Api.UploadCorpusRequest.PartOneofCase.Header)
            throw ServerException.Invalid("The upload's first message must be the header naming the corpus; the text follows it as data.", field: "header");
        var header = requestStream.Current.Header;
        var name = ModelNames.ValidateNew(header.Name, "header.name", "corpus"); // a replacement too: it writes the file anew
        using var nameHold = uploads.Hold(name);
        var existed = CheckUploadName(name, header.Replace, caller);
        using var jobHold = existed ? jobs.HoldCorpus(name, "replace", caller) : null;
        if (!existed) uploads.CountAsNew(name, caller.Name, _limits.MaxCorporaPerKey);

        var text = new UploadedText(name, _limits.MaxCorpusBytes);
        await uploads.Store(name, caller.Name, async stream =>
        {
            while (await requestStream.MoveNext(cancel))
            {
                var message = requestStream.Current;
                if (message.PartCase != Api.UploadCorpusRequest.PartOneofCase.Data)
                    throw ServerException.Invalid("Only the upload's first message may be a header; the ones after it carry the text as data.", field: "header");
                text.Add(message.Data.Span);
                await stream.WriteAsync(message.Data.Memory, cancel);
            }
            text.Finish(); // before the rename: a refused text replaces nothing
        }, keepOwner: existed);
        logger.LogInformation("Corpus {Corpus} {Action} by {Key} ({Bytes} bytes)", name, existed ? "replaced" : "uploaded", caller.Name, text.Bytes);
        return ProtoMapper.ToProto(corpora.UploadEntry(name));
    }

    /// <summary>
    /// Whether the upload replaces one of the name (then <paramref name="replace"/> was set and the caller may);
    /// ALREADY_EXISTS for a server corpus's name, or another upload's without replace or in another case.
    /// </summary>
    private bool CheckUploadName(string name, bool replace, Caller caller)
    {
        if (corpora.ServerCorpusNamed(name) is { } server)
            throw ServerException.Exists(server == CorpusStore.UploadedName
                ? $"The corpus name '{name}' is reserved: \"{CorpusStore.UploadedName}\" stands for text sent with StartJob's corpus_text. Choose another name."
                : server == name
                ? $"Corpus '{name}' is one of the server's own corpora (ListCorpora); choose another name for the upload."
                : $"The server has a corpus named '{server}', and corpus names may not differ only in case (on some file systems they are one file); choose another name.",
                ("corpus", server == CorpusStore.UploadedName ? name : server));
        if (uploads.Names().FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) is not { } taken) return false;
        if (taken != name)
            throw ServerException.Exists(caller.Owns(uploads.Owner(taken))
                ? $"An uploaded corpus is named '{taken}', and corpus names may not differ only in case (on some file systems they are one file); choose another name."
                : $"The name '{name}' differs only in case from a corpus this key cannot change (on some file systems they are one file); choose another name.",
                ("corpus", caller.Owns(uploads.Owner(taken)) ? taken : name)); // another key's corpus unnamed, as the message
        if (!caller.Owns(uploads.Owner(name)))
            throw ServerException.Exists($"The name '{name}' is taken by a corpus this key cannot change; choose another name.", ("corpus", name));
        if (!replace)
            throw ServerException.Exists($"Corpus '{name}' exists; set replace to store this text in its place (replace=true in the REPL), delete it first, or choose another name.", ("corpus", name));
        return true;
    }

    public override Task<Api.DeleteCorpusResponse> DeleteCorpus(Api.DeleteCorpusRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var name = ModelNames.Validate(request.Name, "name", "corpus");
        if (!uploads.Exists(name) || !caller.Owns(uploads.Owner(name)))
        {
            if (corpora.ServerCorpusNamed(name) == name)
                throw ServerException.PermissionDenied($"Corpus '{name}' is one of the server's own corpora, not an upload: DeleteCorpus deletes uploads only. The server's operator removes it from the corpora folder.", ("corpus", name));
            throw ServerException.NotFound($"No uploaded corpus '{name}' {(QuotaHolder.IsKeyless(caller.Name) ? "on this server" : "for this key")}; ListCorpora shows the corpora it can use.", ErrorReasons.CorpusNotFound, ("corpus", name));
        }
        using var nameHold = uploads.Hold(name);
        using var jobHold = jobs.HoldCorpus(name, "delete", caller);
        var owner = uploads.Owner(name);
        uploads.Delete(name);
        logger.LogInformation("Corpus {Corpus} (owner {Owner}) deleted by {Key}", name, owner, caller.Name);
        return Task.FromResult(new Api.DeleteCorpusResponse());
    }
}
