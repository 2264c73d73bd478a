using CharRnn.ModelServer.Hosting;
using CharRnn.Tui.Client;
using Xunit;

namespace CharRnn.Tui.Tests;

/// <summary>
/// A refused embedded start leaves the models folder as it found it, as `charrnn serve`'s does: one it made itself is
/// removed again (so the next start makes it and a typo in --models still shows), one that was there stays whole.
/// </summary>
public sealed class EmbeddedServerRefusedStartTests
{
    /// <summary>Refused before the database is made (a keys file that is not there), and after it (a device name the device loop refuses).</summary>
    public static TheoryData<string> Refusals => ["missing keys file", "unknown device"];

    private static ServerOptions Refused(string refusal, string models, string root) => refusal == "missing keys file"
        ? new ServerOptions { ModelsDirectory = models, KeysFile = Path.Combine(root, "no-such-keys.json"), Device = "cpu", Threads = 1 }
        : new ServerOptions { ModelsDirectory = models, Device = "cuda:x", Threads = 1 };

    [Theory, MemberData(nameof(Refusals))]
    public async Task A_refused_start_removes_the_models_folder_it_made_and_keeps_one_that_was_there(string refusal)
    {
        var root = Directory.CreateTempSubdirectory("charrnn-embedded-refused-").FullName;
        try
        {
            var made = Path.Combine(root, "new", "models"); // its parent made too
            await Assert.ThrowsAnyAsync<Exception>(() => EmbeddedServer.StartAsync(Refused(refusal, made, root)));
            Assert.False(Directory.Exists(made), $"left behind: {string.Join(", ", Directory.Exists(made) ? Directory.GetFileSystemEntries(made).Select(Path.GetFileName) : [])}");
            Assert.False(Directory.Exists(Path.Combine(root, "new")), "the parent folder the start made was left behind");

            var existing = Path.Combine(root, "models");
            Directory.CreateDirectory(existing); // there before, empty: a user's folder, not the start's
            await Assert.ThrowsAnyAsync<Exception>(() => EmbeddedServer.StartAsync(Refused(refusal, existing, root)));
            Assert.True(Directory.Exists(existing));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public async Task A_refused_start_reports_its_refusal_even_when_letting_go_of_the_server_fails()
    {
        if (!OperatingSystem.IsLinux()) return; // /dev/full, which answers every write as a full disk does
        var root = Directory.CreateTempSubdirectory("charrnn-embedded-refused-").FullName;
        try
        {
            var models = Path.Combine(root, "models");
            var expected = await Assert.ThrowsAnyAsync<Exception>(() => EmbeddedServer.StartAsync(Refused("unknown device", models, root)));

            // The log on a full disk: its lines are dropped as they are logged, and disposing the host flushes them again and fails.
            Directory.CreateDirectory(models);
            File.CreateSymbolicLink(Path.Combine(models, "server.log"), "/dev/full");
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => EmbeddedServer.StartAsync(Refused("unknown device", models, root)));
            Assert.Equal((expected.GetType(), expected.Message), (refused.GetType(), refused.Message));
        }
        finally { Directory.Delete(root, true); }
    }
}
