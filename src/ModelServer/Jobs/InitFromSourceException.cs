using CharRnn.Engine.Checkpoints;

namespace CharRnn.ModelServer.Jobs;

/// <summary>
/// A queued fine-tune (StartJobRequest.init_from) whose source could not be read when the job started: its folder or
/// checkpoint removed outside the server (DeleteModel is refused while the job waits; an operator's rm -r is not), or
/// the file damaged. The job fails saying which model, what happened and what to do, not with the raw checkpoint error.
/// </summary>
public sealed class InitFromSourceException(string message, Exception inner) : Exception(message, inner)
{
    public static InitFromSourceException Of(CheckpointException e, string sourceName)
    {
        var lead = $"The model this job starts from (init_from), '{sourceName}',";
        var file = Path.GetFileName(e.Path);
        if (!File.Exists(e.Path))
            return new(Directory.Exists(Path.GetDirectoryName(e.Path))
                ? $"{lead} is gone: its checkpoint file '{file}' was removed after the job was queued. Start the job again: it starts from the checkpoint '{sourceName}' holds then, or from another model."
                : $"{lead} is gone: its folder was removed after the job was queued. Start the job again from another model.", e);
        return new(e.Damaged
            ? $"{lead} cannot be read: its checkpoint file '{file}' is damaged ({e.Problem}). Restore the file or train the model again, then start the job again, or start it from another model."
            : $"{lead} cannot be read: its checkpoint file '{file}' cannot be loaded ({e.Problem}). Start the job again from another model.", e);
    }
}
