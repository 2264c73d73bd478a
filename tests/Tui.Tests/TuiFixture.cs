using System.Text;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Hosting;
using CharRnn.Tui.Client;
using static TorchSharp.torch;

namespace CharRnn.Tui.Tests;

/// <summary>
/// A models folder with one small trained model ("gru"), a corpora folder with "tiny", and the
/// model server embedded in this process as `charrnn` runs it.
/// </summary>
public sealed class TuiFixture : IDisposable
{
    public const string Pattern = "the cat sat on the mat. ";
    public static readonly string TinyText = string.Concat(Enumerable.Repeat(Pattern, 120));

    public TuiFixture()
    {
        Environment.SetEnvironmentVariable("DisableRealDriverIO", "1"); // headless Terminal.Gui: never touch a terminal
        Root = Path.Combine(Path.GetTempPath(), "charrnn-tui-" + Guid.NewGuid().ToString("N")[..8]);
        Models = Path.Combine(Root, "models");
        Corpora = Path.Combine(Root, "corpora");
        Directory.CreateDirectory(Corpora);
        File.WriteAllText(Path.Combine(Corpora, "tiny.txt"), TinyText);
        var a = Architectures.Get("stateful-gru");
        var hp = a.Resolve(new Dictionary<string, double> { ["n_hidden"] = 24, ["n_fac"] = 8, ["bs"] = 8, ["random_bptt"] = 0 });
        var corpus = new Corpus("tiny", TinyText, Corpus.HexSha256(Encoding.UTF8.GetBytes(TinyText)));
        using (var trainer = Trainer.Create(a, hp, new TrainingOptions { MaxSteps = 80, Epochs = 3, LearningRate = LayerGroupValues.All(1e-2), WeightDecay = LayerGroupValues.All(1e-5), SampleChars = 0 },
                   corpus, CPU, Path.Combine(Models, "gru")))
            trainer.Run();
        // An empty cache: the lesson's text is not there, whatever this machine has cached (what the Models form offers depends on it).
        Options = new ServerOptions { ModelsDirectory = Models, CorporaDirectory = Corpora, CorpusCacheDirectory = Path.Combine(Root, "cache"), Device = "cpu" };
        Options.Limits.SessionIdleSeconds = 86_400; // a slow run must not expire the sessions tests count
        Server = EmbeddedServer.StartAsync(Options).GetAwaiter().GetResult();
        Client = new CharRnnClient(Server.Address, Server.Token);
    }

    public string Root { get; }
    public string Models { get; }
    public string Corpora { get; }
    public ServerOptions Options { get; }
    public EmbeddedServer Server { get; }
    public CharRnnClient Client { get; }

    public void Dispose()
    {
        Client.Dispose();
        Server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30));
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class TuiCollection : ICollectionFixture<TuiFixture>
{
    public const string Name = "tui";
}
