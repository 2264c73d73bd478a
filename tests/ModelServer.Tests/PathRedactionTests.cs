using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;

namespace CharRnn.ModelServer.Tests;

public class PathRedactionTests
{
    private static PathRedaction For(string? keys) => new(Microsoft.Extensions.Options.Options.Create(new ServerOptions
    {
        ModelsDirectory = "/srv/charrnn/models",
        CorporaDirectory = "/srv/charrnn/models/corpora", // inside the models folder: the longer root goes first
        KeysFile = keys,
    }));

    [Theory]
    [InlineData("Checkpoint '/srv/charrnn/models/bob/last.ckpt' is damaged", "Checkpoint '<models>/bob/last.ckpt' is damaged")]
    [InlineData("Corpus '/srv/charrnn/models/corpora/x.txt' is empty", "Corpus '<corpora>/x.txt' is empty")]
    [InlineData("Corpus '/home/ann/data/nietzsche.txt' is not valid UTF-8", "Corpus '…/nietzsche.txt' is not valid UTF-8")]
    [InlineData("Folder '/srv/charrnn/models-old/x.ckpt' is damaged", "Folder '…/x.ckpt' is damaged")] // not the models folder, though it starts alike
    [InlineData("The models folder /srv/charrnn/models is full", "The models folder <models> is full")]
    [InlineData("Nothing in /srv/charrnn/models.", "Nothing in <models>.")]
    [InlineData("Copy at /backup/srv/charrnn/models/x.ckpt", "Copy at …/x.ckpt")] // ends like the models folder, is not it
    [InlineData(@"Corpus 'C:\data\texts\a.txt' is empty", @"Corpus '…\a.txt' is empty")]
    [InlineData("see https://example.org/docs/page and charrnn/v1 or 3/4 done", "see https://example.org/docs/page and charrnn/v1 or 3/4 done")]
    [InlineData("Corpus '/home/ann/my texts/war and peace.txt' is empty", "Corpus '…/war and peace.txt' is empty")] // quoted: folders with spaces
    [InlineData(@"Corpus ""C:\Users\ann\My Documents\a.txt"" is empty", @"Corpus ""…\a.txt"" is empty")]
    [InlineData(@"Corpus '\\fileserver\share\texts\a.txt' is empty", @"Corpus '…\a.txt' is empty")] // a UNC share
    [InlineData(@"Copy at \\fileserver\share\a.txt", @"Copy at …\a.txt")]
    public void A_keyed_server_tells_callers_what_went_wrong_without_its_paths(string message, string redacted)
    {
        var paths = For("/srv/charrnn/keys.json");
        Assert.Equal(redacted, paths.ForCaller(message, admin: false));
        Assert.Equal(message, paths.ForCaller(message, admin: true));
    }

    [Fact]
    public void A_keyless_loopback_server_shows_its_local_user_whole_messages()
    {
        const string message = "Checkpoint '/srv/charrnn/models/bob/last.ckpt' is damaged";
        Assert.Equal(message, For(keys: null).ForCaller(message, admin: false));
    }
}
