using CharRnn.Engine.Checkpoints;

namespace CharRnn.Tui.Tests;

/// <summary>charrnn rename: a model in a models folder under a new name.</summary>
public partial class CommandLineTests
{
    [Fact]
    public void Rename_moves_a_model_to_its_new_name_and_refuses_a_name_taken_or_invalid_and_a_model_being_trained() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var said = Printed(["rename", "m", "m2", "--models", root]);
        Assert.Equal($"Renamed model m to m2 in {root}: {Path.Combine(root, "m2")}.", said.TrimEnd());
        Assert.False(Directory.Exists(folder));
        Assert.True(File.Exists(Path.Combine(root, "m2", "best.ckpt")));
        Assert.Equal(["m2"], ModelFolder.List(root).Select(m => m.Name));

        AssertUserError(["rename", "m", "m3", "--models", root], $"charrnn: No model 'm' in --models '{root}' (charrnn models --models {root} lists them).");
        AssertUserError(["rename", "m2", "a/b", "--models", root], "charrnn: The new name 'a/b' is not a valid name; a model name is 1 to 64 characters from letters, digits, '.', '_' and '-', starting with a letter or digit (names are not paths).");
        AssertUserError(["rename", "m2", "m2", "--models", root], "charrnn: The new name 'm2' is the model's name already; give the name it should have.");
        Directory.CreateDirectory(Path.Combine(root, "taken"));
        File.WriteAllText(Path.Combine(root, "taken", "last.ckpt"), "x"); // a model, as far as names go
        AssertUserError(["rename", "m2", "Taken", "--models", root], "charrnn: A model named 'taken' exists, and names may not differ only in case (on some file systems they are one folder); choose another new name.");
        using (ModelFolder.HoldForTraining(Path.Combine(root, "m2"))) // as a `charrnn train` or resume writing into it
            AssertUserError(["rename", "m2", "m3", "--models", root], $"charrnn: Another charrnn train or resume is writing to '{Path.Combine(root, "m2")}'");
        Assert.True(File.Exists(Path.Combine(root, "m2", "best.ckpt")));
        Assert.False(Directory.Exists(Path.Combine(root, "m3")));

        // Its own name in another case: the model holding the name is not another one (moved through a folder between, as on a case-insensitive file system).
        Assert.Equal($"Renamed model m2 to M2 in {root}: {Path.Combine(root, "M2")}.", Printed(["rename", "m2", "M2", "--models", root]).TrimEnd());
        Assert.Equal(["M2", "taken"], ModelFolder.List(root).Select(m => m.Name).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(root, ".renaming-*"));
    });

    /// <summary>
    /// What a crash between a case-only rename's two moves leaves in a folder no server keeps: its note (the two names) and the
    /// model in the hidden folder beside it, which no verb lists.
    /// </summary>
    private static string CutShortCaseOnlyRename(string root, string name, string newName)
    {
        var note = Path.Combine(root, $".renaming-{Guid.NewGuid():N}");
        File.WriteAllText(note, $"{name}\n{newName}\n");
        Directory.Move(Path.Combine(root, name), note + ModelServer.TrainedModels.RenameNote.StopSuffix);
        return note;
    }

    [Fact]
    public void A_case_only_rename_cut_short_is_finished_by_the_next_models_listing_or_rename() => InTempFolder(root =>
    {
        TrainedOneEpoch(root);
        var note = CutShortCaseOnlyRename(root, "m", "M");
        var (listed, said) = PrintedAndSaid(["models", "--models", root]);
        Assert.Equal($"Finished renaming model m to M in {root}: a rename cut short had left it in {note}.folder.", said.TrimEnd());
        Assert.StartsWith("M ", listed.Split('\n')[1]);
        Assert.Equal(["M"], ModelFolder.List(root).Select(m => m.Name));
        Assert.Empty(Directory.GetFileSystemEntries(root, ".renaming-*"));

        CutShortCaseOnlyRename(root, "M", "m");
        Assert.Equal($"Renamed model m to m2 in {root}: {Path.Combine(root, "m2")}.", Printed(["rename", "m", "m2", "--models", root]).TrimEnd()); // m is found
        Assert.True(File.Exists(Path.Combine(root, "m2", "best.ckpt")));
        Assert.Empty(Directory.GetFileSystemEntries(root, ".renaming-*"));

        // Its new name taken meanwhile: the model stays where it is, and the listing says where and what to do.
        note = CutShortCaseOnlyRename(root, "m2", "M2");
        Directory.CreateDirectory(Path.Combine(root, "M2"));
        Assert.Equal($"charrnn: warning: a rename of model m2 to M2 in {root} was cut short, and the model is in {note}.folder: 'M2' is taken now; " +
                     "move that folder to a free name in the folder to have the model listed again.", PrintedAndSaid(["models", "--models", root]).Error.TrimEnd());
        Assert.True(File.Exists(note));
        Assert.True(File.Exists(Path.Combine(note + ".folder", "best.ckpt")));
    });

    [Fact]
    public void Rename_in_a_servers_models_folder_carries_the_owner_and_waits_for_the_server_to_stop() => InTempFolder(root =>
    {
        TrainedOneEpoch(root);
        var options = Microsoft.Extensions.Options.Options.Create(new ModelServer.Hosting.ServerOptions { ModelsDirectory = root });
        using (var database = new ModelServer.Persistence.ServerDatabase(options)) // as a server that kept the folder, stopped now
        {
            database.SetModelOwner("m", "alice", shared: true);
            AssertUserError(["rename", "m", "m2", "--models", root],
                $"charrnn: Another charrnn process is using the models folder {Path.GetFullPath(root)} (it holds {Path.Combine(Path.GetFullPath(root), "charrnn.lock")}): " +
                "a server, or a charrnn train/resume into it. Rename through the server: rename m m2 at its prompt, or " +
                "charrnn --server HOST:PORT --exec \"rename m m2\"; or wait for the train or resume to end.");
        }
        Printed(["rename", "m", "m2", "--models", root]);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using (var reopened = new ModelServer.Persistence.ServerDatabase(options))
        {
            Assert.Equal(new ModelServer.Persistence.ModelRecord("m2", "alice", true), reopened.Model("m2"));
            Assert.Null(reopened.Model("m"));
        }
        Assert.True(File.Exists(Path.Combine(root, "m2", "best.ckpt")));
        Assert.Empty(Directory.GetFiles(root, ".renaming-*"));

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Printed(["rename", "m2", "M2", "--models", root]); // a case-only rename: its owner's row goes with it too
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using var again = new ModelServer.Persistence.ServerDatabase(options);
        Assert.Equal(new ModelServer.Persistence.ModelRecord("M2", "alice", true), again.Model("M2"));
        Assert.Null(again.Model("m2"));
        Assert.True(File.Exists(Path.Combine(root, "M2", "best.ckpt")));
        Assert.Empty(Directory.GetFileSystemEntries(root, ".renaming-*"));
    });
}
