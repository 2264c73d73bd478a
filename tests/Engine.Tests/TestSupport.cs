using System.Text;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;

namespace CharRnn.Engine.Tests;

/// <summary>Small corpora and models that train in a second or two.</summary>
internal static class Tiny
{
    public const string Pattern = "the cat sat on the mat. ";

    public static string Text(int repeats = 120) => string.Concat(Enumerable.Repeat(Pattern, repeats));

    public static Corpus Corpus(string? text = null)
    {
        var t = text ?? Text();
        return new Corpus("tiny", t, Engine.Text.Corpus.HexSha256(Encoding.UTF8.GetBytes(t)));
    }

    /// <summary>Small sizes every architecture accepts.</summary>
    public static HyperParameters HyperParameters(Architecture a, int hidden = 32, int bs = 8, int bptt = 8, int context = 8)
    {
        var given = new Dictionary<string, double>();
        foreach (var p in a.Parameters)
        {
            given[p.Name] = p.Name switch
            {
                "n_fac" => 8,
                "n_hidden" => hidden,
                "bs" => bs,
                "bptt" => bptt,
                "layers" => 2,
                "dropout" => 0.1,
                "context" => context,
                "random_bptt" => 0,
                _ => p.Default,
            };
        }
        return a.Resolve(given);
    }

    public static TrainingOptions Options(int epochs = 1, long maxSteps = 0, double lr = 1e-2) => new()
    {
        Epochs = epochs,
        MaxSteps = maxSteps,
        LearningRate = LayerGroupValues.All(lr),
        SampleChars = 0,
        Seed = 7,
    };
}

/// <summary>A temporary folder removed at the end of a test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "charrnn-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
