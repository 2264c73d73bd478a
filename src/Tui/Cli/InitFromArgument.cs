using CharRnn.Engine.Checkpoints;

namespace CharRnn.Tui.Cli;

/// <summary>
/// The model charrnn train --init-from starts from, found as generate finds a model (a name in --models, a model
/// folder's best.ckpt, or a .ckpt), with its checkpoint's metadata and its name (its folder's) as the new model records it.
/// </summary>
internal sealed record InitFromArgument(string Name, string Checkpoint, CheckpointMetadata Metadata)
{
    public static InitFromArgument Resolve(string given, string modelsFolder)
    {
        var checkpoint = ModelFolder.CheckpointForGeneration(ModelArgument.Resolve(given, modelsFolder));
        var name = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(checkpoint))) ?? given;
        return new InitFromArgument(name, checkpoint, CheckpointFile.ReadMetadata(checkpoint));
    }
}
