using CharRnn.Protos.V1;
using CharRnn.Tui.Client;

namespace CharRnn.Tui.Repl;

/// <summary>import: a safetensors file on this machine (charrnn export's, or one changed in PyTorch) sent to the server as a new model.</summary>
public sealed partial class CommandRunner
{
    private async Task Import(Command c, CancellationToken ct)
    {
        var (path, name, shared) = ImportOf(c);
        ModelSummary model;
        try { model = await ModelUpload.SendAsync(client.Catalog, path, name, shared, ct); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CommandException($"{path} cannot be read: {e.Message}"); }
        output.Line($"imported {path} as model {model.Name}: {model.Architecture}, {model.ParameterCount:N0} parameters, vocabulary of {model.VocabularySize}" +
                    $"{(model.Shared ? ", shared with every key" : "")}; generate with use {model.Name} (it cannot be resumed: the file holds no optimizer state)");
    }

    /// <summary>An import's file, name and shared flag, checked before anything is sent: --exec checks them before it runs the line.</summary>
    /// <param name="exported">Files an export ahead in the line writes (<see cref="CheckLine"/>): one of them need not be there yet.</param>
    private static (string Path, string Name, bool Shared) ImportOf(Command c, IReadOnlySet<string>? exported = null)
    {
        const string extension = Engine.Export.SafetensorsFile.Extension;
        var path = c.Arg(0) ?? throw new CommandException("Usage: " + CommandCatalog.Find("import")!.Usage);
        if (Directory.Exists(path)) throw new CommandException($"{path} is a folder; import takes a {extension} file (charrnn export's, or one saved from PyTorch with its metadata).");
        if (!File.Exists(path) && exported?.Contains(Path.GetFullPath(path)) != true) throw new CommandException($"No file {path}; give the path of a {extension} file written by charrnn export or the REPL's export.");
        var name = c.Option("name") ?? (Path.GetExtension(path).Equals(extension, StringComparison.OrdinalIgnoreCase) ? Path.GetFileNameWithoutExtension(path) : Path.GetFileName(path));
        var shared = c.Option("shared") is { } s && OptionValues.Bool("shared", s) != 0;
        return (path, name, shared);
    }
}
