using System.Diagnostics;

namespace CharRnn.Bench;

/// <summary>Starts this program again with other arguments, whether it was started as its own executable or as `dotnet charrnn-bench.dll`.</summary>
public static class SelfLaunch
{
    public static ProcessStartInfo StartInfo(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!);
        // Under the dotnet host the process is dotnet itself: the program's dll comes first.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        return start;
    }
}
