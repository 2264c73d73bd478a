using System.Text;
using CharRnn.ModelServer.Persistence;
using CharRnn.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// Sharing a model lets other keys list it and generate from it; it must not hand them the text its
/// owner uploaded, which GetPassage with model_name would read from the model's folder.
/// </summary>
public class SharedUploadPassageTests(KeyedServer keyed) : IClassFixture<KeyedServer>
{
    [Fact]
    public async Task Another_key_gets_no_passage_of_a_shared_models_uploaded_text()
    {
        var secret = string.Concat(Enumerable.Repeat("alice secret payroll data. ", 60));
        var folder = keyed.Server.TrainOn("a-secret", new Engine.Text.Corpus("upload", secret, Engine.Text.Corpus.HexSha256(Encoding.UTF8.GetBytes(secret))));
        File.WriteAllText(Path.Combine(folder, Engine.Checkpoints.ModelFolder.UploadedCorpusFile), secret);
        keyed.Server.Services.GetRequiredService<ServerDatabase>().SetModelOwner("a-secret", "alice"); // as alice's upload job leaves it
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "a-secret", Shared = true });

        var request = new GetPassageRequest { ModelName = "a-secret", Length = 60, Seed = 1 };
        var refused = await Calls.Fails(() => keyed.AsBob.Catalog.GetPassageAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal("Model 'a-secret' was trained on uploaded text, which only the model's owner can read passages of; sharing a model does not share its corpus.",
            refused.Status.Detail); // names no key
        // The owner and admins still get it.
        Assert.Contains("secret", (await keyed.AsAlice.Catalog.GetPassageAsync(request)).Text);
        Assert.Contains("secret", (await keyed.AsAdmin.Catalog.GetPassageAsync(request)).Text);
    }

    [Fact]
    public async Task Another_key_gets_passages_of_a_shared_model_on_a_server_corpus()
    {
        // The server's corpora are listed to every key: a passage of one gives nothing away.
        keyed.Server.TrainOn("a-tiny", ServerFixture.TinyCorpus());
        keyed.Server.Services.GetRequiredService<ServerDatabase>().SetModelOwner("a-tiny", "alice");
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "a-tiny", Shared = true });

        var passage = await keyed.AsBob.Catalog.GetPassageAsync(new GetPassageRequest { ModelName = "a-tiny", Length = 40, Seed = 2 });
        Assert.Equal("tiny", passage.CorpusName);
        Assert.Equal(ServerFixture.TinyText.Substring((int)passage.Offset, passage.Text.Length), passage.Text);
    }
}
