using System.Text;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Hosting;
using CharRnn.Protos.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A server in this process (TestServer, no sockets) over a temporary models folder that
/// holds three small trained models: "gru" (stateful), "lstm" (stateful, two layers) and
/// "loop" (windowed), plus a corpora folder with "tiny".
/// </summary>
public sealed class ServerFixture : IDisposable
{
    public const string Pattern = "the cat sat on the mat. ";
    public static readonly string TinyText = string.Concat(Enumerable.Repeat(Pattern, 120));

    private readonly WebApplicationFactory<Program> _factory;

    public ServerFixture() : this(_ => { }) { }

    internal ServerFixture(Action<ServerOptions> configure)
    {
        Root = Path.Combine(Path.GetTempPath(), "charrnn-server-" + Guid.NewGuid().ToString("N")[..10]);
        Options = new ServerOptions
        {
            ModelsDirectory = Path.Combine(Root, "models"),
            CorporaDirectory = Path.Combine(Root, "corpora"),
            CorpusCacheDirectory = Path.Combine(Root, "cache"),
            Device = "cpu",
        };
        Options.Limits.SessionIdleSeconds = 86_400; // a slow run of the collection must not expire the sessions its tests count
        configure(Options);
        Directory.CreateDirectory(Options.CorporaDirectory);
        File.WriteAllText(Path.Combine(Options.CorporaDirectory, "tiny.txt"), TinyText);
        TrainModel("gru", "stateful-gru");
        TrainModel("lstm", "stateful-lstm");
        TrainModel("loop", "loop");

        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseContentRoot(AppContext.BaseDirectory);
            b.ConfigureServices(s =>
            {
                s.AddSingleton(Microsoft.Extensions.Options.Options.Create(Options));
                s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(Log);
            });
        });
        Channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions
        {
            HttpHandler = _factory.Server.CreateHandler(),
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
        });
        Catalog = new Catalog.CatalogClient(Channel);
        Training = new Training.TrainingClient(Channel);
        Generation = new Generation.GenerationClient(Channel);
    }

    public string Root { get; }
    /// <summary>What the server logged.</summary>
    public CapturedLog Log { get; } = new();
    public ServerOptions Options { get; }
    public IServiceProvider Services => _factory.Services;
    public GrpcChannel Channel { get; }
    public Catalog.CatalogClient Catalog { get; }
    public Training.TrainingClient Training { get; }
    public Generation.GenerationClient Generation { get; }

    /// <summary>A plain HTTP client of the same server, for what a gRPC client decodes before a test could see it (raw headers).</summary>
    public HttpClient RawHttp() => new(_factory.Server.CreateHandler()) { BaseAddress = _factory.Server.BaseAddress };

    /// <summary>Another channel to the same server, sending <paramref name="token"/> as its API key (none when null).</summary>
    public GrpcChannel ChannelFor(string? token) => GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions
    {
        HttpHandler = _factory.Server.CreateHandler(),
        Credentials = token == null ? null : Grpc.Core.ChannelCredentials.Create(Grpc.Core.ChannelCredentials.Insecure,
            Grpc.Core.CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + token);
                return Task.CompletedTask;
            })),
        UnsafeUseInsecureChannelCallCredentials = true,
    });

    public static Corpus TinyCorpus() => new("tiny", TinyText, Corpus.HexSha256(Encoding.UTF8.GetBytes(TinyText)));

    /// <summary>Trains a tiny model straight into the models folder with the engine.</summary>
    public void TrainModel(string name, string architecture, int steps = 60, int hidden = 24)
    {
        var a = Architectures.Get(architecture);
        var given = a.Parameters.ToDictionary(p => p.Name, p => p.Name switch
        {
            // Layers as each architecture's default: the LSTM's two, the GRU's one (the lesson's).
            "n_fac" => 8, "n_hidden" => hidden, "bs" => a.IsStateful ? 8 : 32, "bptt" => 8, "dropout" => p.Default > 0 ? 0.1 : 0, "random_bptt" => 0, _ => p.Default,
        });
        var options = new CharRnn.Engine.Training.TrainingOptions { Epochs = 3, MaxSteps = steps, LearningRate = LayerGroupValues.All(1e-2), SampleChars = 0 };
        using var trainer = Trainer.Create(a, a.Resolve(given), options, TinyCorpus(), CPU, Path.Combine(Options.ModelsDirectory, name));
        trainer.Run();
    }

    /// <summary>Trains a one-step model on <paramref name="corpus"/> straight into the models folder; returns its folder.</summary>
    public string TrainOn(string name, Corpus corpus, double validFraction = 0.2, bool lowercase = false)
    {
        var a = Architectures.Get("stateful-gru");
        var hp = a.Resolve(new Dictionary<string, double> { ["n_hidden"] = 8, ["n_fac"] = 4, ["bs"] = 4, ["random_bptt"] = 0 });
        var folder = Path.Combine(Options.ModelsDirectory, name);
        using var trainer = Trainer.Create(a, hp, new CharRnn.Engine.Training.TrainingOptions { MaxSteps = 1, Epochs = 1, SampleChars = 0, ValidFraction = validFraction, Lowercase = lowercase },
            corpus, CPU, folder);
        trainer.Run();
        return folder;
    }

    /// <summary>Stops the server (as a shutdown does), keeping its folder for a look at what it left.</summary>
    public void StopServer()
    {
        if (_stopped) return;
        _stopped = true;
        Channel.Dispose();
        _factory.Dispose();
    }

    private bool _stopped;

    public void Dispose()
    {
        StopServer();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
