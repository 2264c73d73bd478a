using System.CommandLine;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;

namespace CharRnn.Tui.Cli;

/// <summary>The charrnn command tree and its error handling: a user mistake prints one clear line and exits 2.</summary>
public static class CharRnnCommandLine
{
    public static RootCommand Build(Action<RootCommand>? configureRoot = null)
    {
        var root = new RootCommand("charrnn: train, serve and play with character-level RNN language models (the fast.ai Nietzsche lesson).")
        {
            TrainCommand.CreateTrain(),
            TrainCommand.CreateResume(),
            GenerateCommand.Create(),
            ModelsCommand.Create(),
            ArchsCommand.Create(),
            DemoCommand.Create(),
            ServeCommand.Create(),
            KeysCommand.Create(),
        };
        configureRoot?.Invoke(root);
        return root;
    }

    public static int Run(string[] args, Action<RootCommand>? configureRoot = null)
    {
        var parse = Build(configureRoot).Parse(args);
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"charrnn: {e.Message}");
            return 2;
        }
    }

    /// <summary>Errors that are about the input, not a bug: no stack trace.</summary>
    public static bool IsUserError(Exception e) =>
        e is ArgumentException or InvalidDataException or Repl.CommandException or CorpusException or CheckpointException or UnknownCharactersException or HyperParameterException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException;
}
