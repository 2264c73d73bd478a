namespace CharRnn.Tui.Tests;

/// <summary>The text files verbs read whole (train's --corpus, eval's and neurons' --text): not UTF-8, or too large to hold.</summary>
public partial class CommandLineTests
{
    [Fact]
    public void Eval_refuses_a_text_that_is_not_utf8_rather_than_scoring_its_bad_bytes_as_replacement_chars() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var text = Path.Combine(root, "latin1.txt");
        var good = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(TuiFixture.Pattern, 4)));
        File.WriteAllBytes(text, [.. good, 0xE9, .. good]); // an 'é' saved as Latin-1: no UTF-8 byte sequence

        // Read leniently it was "1 character(s) the model's vocabulary does not know: '\uFFFD'", and --skip-unknown scored the rest.
        const string said = "is not UTF-8 text; convert it (iconv -t UTF-8) or save it as UTF-8.";
        AssertUserError(["eval", folder, "--text", text, "--threads", "1"], $"charrnn: --text '{text}' {said}");
        AssertUserError(["eval", folder, "--text", text, "--skip-unknown", "--threads", "1"], $"charrnn: --text '{text}' {said}");
    });

    [Fact]
    public void A_text_file_too_large_to_hold_as_one_string_is_refused_before_it_is_read() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var huge = Path.Combine(root, "huge.txt");
        using (var file = File.Create(huge)) file.SetLength(Engine.Text.Corpus.MaxFileBytes + 1); // sparse: no disk, nothing to read
        const string why = "has 1,073,741,792 bytes, more than the 1,073,741,791 (just under 1 GiB) a text read whole may have (it is held in memory as one string); give a part of it.";

        // Each ran out of memory reading it all: "Insufficient memory to continue the execution of the program." (exit 1).
        AssertUserError(["train", "--arch", "stateful-gru", "--corpus", huge, "--out", Path.Combine(root, "big"), "--threads", "1"], $"charrnn: Corpus '{huge}' {why}");
        AssertUserError(["eval", folder, "--text", huge, "--threads", "1"], $"charrnn: --text '{huge}' {why}");
        AssertUserError(["neurons", folder, "--text", huge, "--threads", "1"], $"charrnn: --text '{huge}' {why}");
        Assert.False(Directory.Exists(Path.Combine(root, "big")));
    });
}

/// <summary>A models folder this user may not write: resume and rename refuse it as train does.</summary>
public partial class CommandLineTests
{
    [Fact]
    public void Resume_and_rename_in_a_folder_this_user_may_not_write_say_so_as_train_does()
    {
        // Only root can run charrnn as a user that may not write a folder here: elsewhere there is nothing to see.
        if (Environment.UserName != "root") return;
        InTempFolder(root =>
        {
            if (!OperatingSystem.IsLinux()) return;
            var (folder, corpus) = TrainedOneEpoch(root);
            File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(corpus, (UnixFileMode)0b110_100_100);
            foreach (var file in Directory.GetFiles(folder)) File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
            // Each was '(charrnn: )Access to the path '…/m/.train.lock' is denied.', exit 1, naming a file the user never gave.
            var (code, said) = AsNobody($"resume {folder} --corpus {corpus} --epochs 2 --threads 1");
            Assert.Equal(2, code);
            Assert.StartsWith($"charrnn: The model folder '{folder}' cannot be written: ", said);
            // The folder is named, not the empty file written to find out (it said 'Access to the path '…/m/.write-check-PID' is denied.').
            Assert.Equal($"charrnn: The model folder '{folder}' cannot be written: Access to the path '{folder}' is denied.", said.Trim());
            var fresh = Path.Combine(root, "fresh");
            (code, said) = AsNobody($"train --arch stateful-gru --corpus {corpus} --out {fresh} --max-steps 1 --threads 1");
            Assert.Equal((2, $"charrnn: --out '{fresh}' cannot be written: Access to the path '{root}' is denied."), (code, said.Trim()));
            // A train into it is refused as into any folder holding a model: it said 'Access to the path '…/m/.train.lock' is denied.', exit 1.
            (code, said) = AsNobody($"train --arch stateful-gru --corpus {corpus} --out {folder} --max-steps 1 --threads 1");
            Assert.Equal(2, code);
            Assert.StartsWith($"charrnn: '{folder}' already holds a model; continue it with 'charrnn resume {folder}'", said);
            (code, said) = AsNobody($"rename m m2 --models {root}");
            Assert.Equal(2, code);
            Assert.StartsWith($"charrnn: --models '{root}' cannot be written: ", said);
            Assert.True(Directory.Exists(folder));
        });

        (int Code, string Said) AsNobody(string args)
        {
            var start = new System.Diagnostics.ProcessStartInfo("setpriv",
                $"--reuid=65534 --regid=65534 --clear-groups dotnet {typeof(CharRnn.Tui.Cli.KeysCommand).Assembly.Location} {args}") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["HOME"] = Path.GetTempPath();
            using var process = System.Diagnostics.Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, error.Result);
        }
    }
}
