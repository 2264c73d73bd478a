using CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Tests;

/// <summary>GetServerInfo's key_usage: an admin sees each key's sessions, jobs, chars, models and uploads against its quotas; any other key only its own.</summary>
public class KeyUsageStatusTests
{
    [Fact]
    public async Task An_admin_sees_every_keys_use_of_its_quotas_and_a_key_only_its_own()
    {
        using var keyed = new KeyedServer(); // its own: the shared one's sessions and jobs are other tests'
        var alice = keyed.AsAlice;
        await CorpusUploadTests.Upload(keyed.AsBob.Catalog, "bobs-usage-text", "some text of bob's own, long enough to store"u8.ToArray());
        var first = await alice.Generation.Open("gru");
        await alice.Generation.Open("gru");
        Assert.Equal(30, (await alice.Generation.Generate(first.Id, 30)).Length);
        await keyed.AsBob.Generation.Open("gru");
        var job = new StartJobRequest { ModelName = "alice-usage", Architecture = "stateful-rnn", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = 1_000_000, Epochs = 1000, SampleChars = 0 } };
        job.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
        var started = await alice.Training.StartJobAsync(job);
        try
        {
            var all = (await keyed.AsAdmin.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).KeyUsage;
            Assert.Equal(["alice", "bob", "dave", "root"], all.Select(u => u.Key));
            // The model alice's job is making counts against max_models_per_key from the start, as the quota counts it;
            // bob's upload against max_corpora_per_key.
            Assert.Equal(new KeyUsage { Key = "alice", Sessions = 2, Jobs = 1, CharsLastMinute = 30, Models = 1 }, all[0]);
            Assert.Equal(new KeyUsage { Key = "bob", Sessions = 1, Corpora = 1 }, all[1]);
            Assert.Equal(new KeyUsage { Key = "root" }, all[3]);

            var own = (await keyed.AsBob.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).KeyUsage;
            Assert.Equal(new KeyUsage { Key = "bob", Sessions = 1, Corpora = 1 }, Assert.Single(own));
        }
        finally
        {
            await keyed.AsAdmin.Training.StopJobAsync(new StopJobRequest { JobId = started.Id });
        }
    }
}
