using CharRnn.ModelServer.Security;
using CharRnn.Protos.V1;
using Grpc.Net.Client;

namespace CharRnn.ModelServer.Tests;

/// <summary>A server with API keys for alice, bob and an admin, and small per-key quotas.</summary>
public sealed class KeyedServer : IDisposable
{
    public KeyedServer()
    {
        var keysFile = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        var store = ApiKeyStore.Load(keysFile);
        Alice = store.Add("alice", admin: false);
        Bob = store.Add("bob", admin: false);
        Admin = store.Add("root", admin: true);
        Dave = store.Add("dave", admin: false);
        Server = new ServerFixture(o =>
        {
            o.KeysFile = keysFile;
            o.Limits.MaxSessionsPerKey = 4;
            o.Limits.MaxJobsPerKey = 1;
            o.Limits.MaxCharsPerMinutePerKey = 3000;
        });
        AsAlice = new Api(Server.ChannelFor(Alice));
        AsBob = new Api(Server.ChannelFor(Bob));
        AsAdmin = new Api(Server.ChannelFor(Admin));
        AsDave = new Api(Server.ChannelFor(Dave));
        Anonymous = new Api(Server.ChannelFor(null));
    }

    public string Alice { get; }
    public string Bob { get; }
    public string Admin { get; }
    /// <summary>Spends its quotas in the quota test.</summary>
    public string Dave { get; }
    public ServerFixture Server { get; }
    public Api AsAlice { get; }
    public Api AsBob { get; }
    public Api AsAdmin { get; }
    public Api AsDave { get; }
    public Api Anonymous { get; }

    public sealed class Api(GrpcChannel channel)
    {
        public GrpcChannel Channel { get; } = channel;
        public Catalog.CatalogClient Catalog { get; } = new(channel);
        public Training.TrainingClient Training { get; } = new(channel);
        public Generation.GenerationClient Generation { get; } = new(channel);
    }

    public void Dispose() => Server.Dispose();
}
