using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>Completer: Tab completion of commands, names, option keys and the values of keys whose values are known.</summary>
public class CompleterTests
{
    private static readonly CompletionSource.Snapshot Names = new(
        ["stateful-gru", "stateful-lstm", "loop"],
        new Dictionary<string, string[]> { ["stateful-lstm"] = ["n_hidden", "layers", "dropout", "random_bptt"] },
        ["lstm-big", "lstm-small", "gru"], ["j-12", "lstm-small"], ["nietzsche", "my-notes", "my-poems"],
        ["adam", "adamw"], ["lower", "keep_cycles", "random_bptt"]);

    [Theory]
    [InlineData("us", 2, 0, new[] { "use" })]
    [InlineData("use ls", 6, 4, new[] { "lstm-big", "lstm-small" })]
    [InlineData("train state", 11, 6, new[] { "stateful-gru", "stateful-lstm" })]
    [InlineData("train stateful-lstm la", 22, 20, new[] { "layers=" })]
    [InlineData("train stateful-lstm ep", 22, 20, new[] { "epochs=" })]
    [InlineData("train re", 8, 6, new[] { "recipe=" })]
    [InlineData("train recipe=l", 14, 6, new[] { "recipe=lesson" })]
    [InlineData("train recipe=lesson la", 22, 20, new[] { "layers=" })] // the recipe's architecture's keys
    [InlineData("train recipe=Lesson la", 22, 20, new string[0])] // no recipe (names match exactly, as train takes them): no architecture's keys
    [InlineData("models; use g", 13, 12, new[] { "gru" })]
    [InlineData("gen 10 t", 8, 7, new[] { "t=" })]
    [InlineData("attach j", 8, 7, new[] { "j-12" })]
    [InlineData("stop ls", 7, 5, new[] { "lstm-small" })] // the model with a job, not every model
    [InlineData("gen 10 \"a;b\" t", 14, 13, new[] { "t=" })] // a ';' inside quotes does not start a command
    [InlineData("feed 'don't; x'; use g", 22, 21, new[] { "gru" })]
    [InlineData("nosuch x", 8, 7, new string[0])]
    [InlineData("train stateful-gru corpus=ni", 28, 19, new[] { "corpus=nietzsche" })] // the server's corpora, uploads too
    [InlineData("train stateful-gru corpus=my", 28, 19, new[] { "corpus=my-notes", "corpus=my-poems" })]
    [InlineData("delete-corpus my", 16, 14, new[] { "my-notes", "my-poems" })]
    [InlineData("train stateful-lstm optimizer=a", 31, 20, new[] { "optimizer=adam", "optimizer=adamw" })]
    [InlineData("train stateful-lstm optimizer=adamw", 35, 20, new[] { "optimizer=adamw" })]
    [InlineData("train stateful-gru lower=t", 26, 19, new[] { "lower=true" })]
    [InlineData("train stateful-gru LOWERCASE=f", 30, 19, new[] { "LOWERCASE=false" })] // an alias, as typed
    [InlineData("train stateful-gru pat", 22, 19, new[] { "patience=" })]
    [InlineData("resume lstm-big pat", 19, 16, new[] { "patience=" })] // a resume may change it
    [InlineData("train stateful-gru keep_cycles=", 31, 19, new[] { "keep_cycles=false", "keep_cycles=true" })]
    [InlineData("train stateful-lstm random_bptt=f", 33, 20, new[] { "random_bptt=false" })] // a yes/no hyperparameter
    [InlineData("train recipe=lesson corpus=n", 28, 20, new[] { "corpus=nietzsche" })]
    [InlineData("upload notes.txt replace=t", 26, 17, new[] { "replace=true" })]
    [InlineData("export ls", 9, 7, new[] { "lstm-big", "lstm-small" })]
    [InlineData("export gru gru.safetensors ch", 29, 27, new[] { "checkpoint=" })]
    [InlineData("export gru gru.safetensors checkpoint=l", 39, 27, new[] { "checkpoint=last" })]
    [InlineData("export gru gru.safetensors force=t", 34, 27, new[] { "force=true" })]
    [InlineData("set seed=r", 10, 4, new[] { "seed=random" })]
    [InlineData("set t=0.5 seed=", 15, 10, new[] { "seed=random" })]
    [InlineData("resume lstm-big lower=t", 23, 16, new string[0])] // resume takes no lower=
    [InlineData("train stateful-gru epochs=3", 27, 19, new string[0])] // a number: nothing to offer, as before
    [InlineData("train stateful-gru corpus=x", 27, 19, new string[0])]
    public void Tab_completes_commands_names_and_keys(string line, int cursor, int start, string[] expected)
    {
        var (s, candidates) = Completer.Complete(line, cursor, Names);
        Assert.Equal(expected, candidates);
        if (expected.Length > 0) Assert.Equal(start, s);
    }

    [Fact]
    public void Tab_completes_the_files_upload_import_and_export_take()
    {
        var dir = Directory.CreateTempSubdirectory("charrnn-complete-").FullName;
        try
        {
            foreach (var file in new[] { "notes.txt", "notes-2.txt", ".hidden", "a b.txt", "k=v.txt", "q\"uote.txt" }) File.WriteAllText(Path.Combine(dir, file), "x");
            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            string[] Offered(string line) => [.. Completer.Complete(line, line.Length, Names).Candidates];
            Assert.Equal([$"{dir}/notes-2.txt", $"{dir}/notes.txt"], Offered($"upload {dir}/no"));
            Assert.Equal([$"{dir}/sub/"], Offered($"upload {dir}/s")); // a folder ends in '/', to go on into
            // Not the hidden file, nor names the command line would split, quote or read as a key.
            Assert.Equal([$"{dir}/notes-2.txt", $"{dir}/notes.txt", $"{dir}/sub/"], Offered($"import {dir}/"));
            Assert.Equal([$"{dir}/.hidden"], Offered($"upload {dir}/."));
            Assert.Equal([$"{dir}/notes-2.txt", $"{dir}/notes.txt"], Offered($"export gru {dir}/no")); // export's second word
            Assert.Equal(["name="], Offered($"upload {dir}/notes.txt na")); // after the file, its keys as before
            Assert.Empty(Offered($"export {dir}/no")); // export's first word is a model
            Assert.Empty(Offered($"upload {dir}/missing/x")); // a folder that is not there offers nothing

            // In a folder of thousands, the match is found wherever the folder lists it: the cap counts matches, not entries read.
            var big = Directory.CreateDirectory(Path.Combine(dir, "big")).FullName;
            for (var i = 0; i < 3000; i++) File.WriteAllText(Path.Combine(big, $"f{i:D4}.txt"), "");
            File.WriteAllText(Path.Combine(big, "target.txt"), "x");
            Assert.Equal([$"{big}/target.txt"], Offered($"upload {big}/ta"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Several_candidates_complete_to_their_common_prefix()
    {
        Assert.Equal("lstm-", Completer.CommonPrefix(["lstm-big", "lstm-small"]));
        Assert.Equal("", Completer.CommonPrefix([]));
        Assert.Equal("corpus=my-", Completer.CommonPrefix(["corpus=my-notes", "corpus=my-poems"]));
        Assert.Equal("optimizer=adam", Completer.CommonPrefix(["optimizer=adam", "optimizer=adamw"]));
    }
}
