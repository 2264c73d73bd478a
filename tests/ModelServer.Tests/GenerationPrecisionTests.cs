using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Protos.V1;
using Microsoft.Extensions.DependencyInjection;
using static TorchSharp.torch;

namespace CharRnn.ModelServer.Tests;

/// <summary>serve --generation-precision: what the server's models generate in.</summary>
public class GenerationPrecisionTests
{
    [Fact]
    public async Task A_server_set_to_bf16_loads_lstm_models_in_bf16_and_others_in_float32_and_streams_from_them()
    {
        if (MklBf16Weight.WhyUnavailable is { } why)
        {
            // Refused at start, with the reason, rather than generating slowly in emulation.
            var e = Assert.ThrowsAny<Exception>(() => new ServerFixture(o => o.GenerationPrecision = GenerationPrecision.BFloat16).Dispose());
            Assert.Contains($"--generation-precision bf16 is not available on this device: {why}; use float32 (the default).", e.ToString());
            return;
        }
        using var server = new ServerFixture(o => o.GenerationPrecision = GenerationPrecision.BFloat16);
        var store = server.Services.GetRequiredService<TrainedModels.ModelStore>();
        foreach (var (name, expected) in new[] { ("lstm", GenerationPrecision.BFloat16), ("gru", GenerationPrecision.Float32) })
        {
            using var preloaded = store.Preload(name, CPU)!;
            Assert.Equal(expected, preloaded.Trained.Model.GenerationPrecision);
        }
        // A client is told: the server's setting, each session's model's own precision, and the operator's log at the GRU's load.
        Assert.Equal("bf16", (await server.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).GenerationPrecision);
        var gru = await server.Generation.Open("gru", temperature: 0);
        Assert.Equal("float32", gru.GenerationPrecision);
        Assert.Equal("float32", (await server.Generation.GetSessionAsync(new GetSessionRequest { SessionId = gru.Id })).GenerationPrecision);
        Assert.Single(server.Log.With("Loaded model gru from "), l => l.EndsWith("; it generates in float32: a stateful-gru model has no bf16 path (stateful-lstm models have)", StringComparison.Ordinal));
        var s = await server.Generation.Open("lstm", temperature: 0, prime: "the c");
        Assert.Equal("bf16", s.GenerationPrecision);
        Assert.DoesNotContain(server.Log.With("Loaded model lstm from "), l => l.Contains("no bf16 path", StringComparison.Ordinal));
        var text = "";
        using (var generate = server.Generation.Generate(new GenerateRequest { SessionId = s.Id, MaxChars = 30 }))
            while (await generate.ResponseStream.MoveNext(CancellationToken.None))
                text += generate.ResponseStream.Current.Text;
        Assert.Equal(30, text.Length);
    }
}
