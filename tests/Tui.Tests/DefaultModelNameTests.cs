using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>The name `train` gives a model when none is asked for, on a server shared by keys.</summary>
[Collection(TuiCollection.Name)]
public sealed class DefaultModelNameTests
{
    [Fact]
    public async Task A_default_name_another_keys_private_model_has_is_passed_over_for_the_next_free_one()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-names-").FullName;
        try
        {
            var keysFile = Path.Combine(root, "keys.json");
            var keys = ModelServer.Security.ApiKeyStore.Load(keysFile);
            var (alice, bob) = (keys.Add("alice", admin: false), keys.Add("bob", admin: false));
            Directory.CreateDirectory(Path.Combine(root, "corpora"));
            File.WriteAllText(Path.Combine(root, "corpora", "tiny.txt"), TuiFixture.TinyText);
            await using var server = await EmbeddedServer.StartAsync(new ModelServer.Hosting.ServerOptions
            {
                ModelsDirectory = Path.Combine(root, "models"), CorporaDirectory = Path.Combine(root, "corpora"), KeysFile = keysFile, Device = "cpu", Threads = 1,
            });
            const string tiny = "corpus=tiny n_hidden=8 n_fac=4 bs=8 bptt=8 max_steps=2 sample_chars=0";

            // bob's model takes the first name; alice cannot see it.
            using (var asBob = new CharRnnClient(server.Address, bob))
            {
                var bobs = new RecordingReplOutput();
                await using var runner = new CommandRunner(asBob, bobs, interactive: false);
                await runner.RunLineAsync($"train stateful-gru name=stateful-gru-1 {tiny}");
                await runner.RunLineAsync($"train stateful-gru name=stateful-gru-2-tuned-1 {tiny}"); // the name alice's fine-tune below tries first
                Assert.Empty(bobs.Errors);
            }
            using var asAlice = new CharRnnClient(server.Address, alice);
            Assert.Empty((await asAlice.Catalog.ListModelsAsync(new ListModelsRequest())).Models);
            var output = new RecordingReplOutput();
            await using (var runner = new CommandRunner(asAlice, output, interactive: false))
                await runner.RunLineAsync($"train stateful-gru {tiny}");
            Assert.Empty(output.Errors);
            Assert.Contains(output.Lines, l => l.StartsWith("job ", StringComparison.Ordinal) && l.EndsWith("stateful-gru → model stateful-gru-2", StringComparison.Ordinal));

            // A fine-tune's default, SOURCE-tuned-N, is passed over the same way (not the architecture's name, which init_from leaves empty).
            var tuned = new RecordingReplOutput();
            await using (var runner = new CommandRunner(asAlice, tuned, interactive: false))
                await runner.RunLineAsync("train init_from=stateful-gru-2 corpus=tiny max_steps=2 sample_chars=0");
            Assert.Empty(tuned.Errors);
            Assert.Contains(tuned.Lines, l => l.StartsWith("job ", StringComparison.Ordinal) && l.EndsWith("from stateful-gru-2's weights → model stateful-gru-2-tuned-2", StringComparison.Ordinal));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(root, true);
        }
    }
}
