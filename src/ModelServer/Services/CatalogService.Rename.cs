using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.TrainedModels;
using Grpc.Core;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>RenameModel: a model under a new name, its owner and sharing kept (guarded as DeleteModel is).</summary>
public sealed partial class CatalogService
{
    public override async Task<Api.ModelSummary> RenameModel(Api.RenameModelRequest request, ServerCallContext context)
    {
        var name = ModelNames.Validate(request.Name, "name");
        var newName = ModelNames.ValidateNew(request.NewName, "new_name");
        if (newName == name)
            throw ServerException.Invalid($"new_name '{newName}' is the model's name already; give the name it should have.", field: "new_name");
        var caller = Caller.Of(context);
        EnsureCanChange(name, caller, "rename");
        if (models.TakenName(newName, renamed: name) is { } taken)
            throw ServerException.Exists(ModelNames.RenameTakenMessage(newName, taken, caller.Name), ("model", taken));
        using var hold = jobs.HoldForRename(name, newName, caller); // no job trains it, starts from it or takes either name meanwhile
        // Not while a session or an export reads its checkpoint (one load at a time): the files move under it.
        bool recorded;
        using (await models.HoldLoadTurn(name, context.CancellationToken))
            recorded = models.Rename(name, newName, caller.Name);
        // The jobs that trained it name it as it is now, as their stored rows do (or will at the next start, where the rename stands unrecorded).
        jobs.RenameEndedJobs(name, newName, rowsNamed: recorded ? newName : name);
        // Sessions open on it keep their copy; the next one opens it under its new name, and a model made under the old name is another.
        await worker.Run(() => models.Invalidate(name), CancellationToken.None, caller.Name);
        return Summary(models.Get(newName, caller), caller);
    }

    /// <summary>
    /// What DeleteModel and RenameModel ask first: FAILED_PRECONDITION for a model a job has not saved yet, NOT_FOUND when absent or
    /// not visible to this key, PERMISSION_DENIED unless the key may <paramref name="change"/> it (its owner; an admin).
    /// </summary>
    private void EnsureCanChange(string name, Caller caller, string change)
    {
        jobs.ThrowIfUnsaved(name, caller);
        models.Get(name, caller);
        if (!models.CanWrite(name, caller))
            throw ServerException.PermissionDenied(models.Ownership(name)?.Owner is { } owner
                ? $"Model '{name}' belongs to key '{owner}'; only its owner or an admin can {change} it."
                : $"Model '{name}' was made outside the server and has no owner; only an admin key can {change} it.", ("model", name));
    }
}
