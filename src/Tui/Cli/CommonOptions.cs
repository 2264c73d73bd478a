using System.CommandLine;
using CharRnn.Engine.Runtime;

namespace CharRnn.Tui.Cli;

/// <summary>Options every Torch-using verb shares: where to compute and with how many threads.</summary>
public static class CommonOptions
{
    public static Option<string> Device() => new("--device")
    {
        Description = $"Where tensors live: {TorchRuntime.DeviceHelp}.",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "libtorch CPU threads (0: libtorch's default, one per core it sees).",
        DefaultValueFactory = _ => 0,
    };

    public static Option<string> ModelsDir() => new("--models")
    {
        Description = "Folder that holds model folders.",
        DefaultValueFactory = _ => "models",
    };
}
