using TorchSharp;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

public class CheckpointTests
{
    private static string TrainAndSave(TempFolder dir, string arch = "stateful-lstm")
    {
        var a = Architectures.Get(arch);
        using var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(maxSteps: 6), Tiny.Corpus(), CPU, dir.Path);
        trainer.Run();
        return Path.Combine(dir.Path, Trainer.LastCheckpoint);
    }

    [Theory]
    [MemberData(nameof(ModelTests.ArchitectureNames), MemberType = typeof(ModelTests))]
    public void A_loaded_checkpoint_gives_identical_outputs(string arch)
    {
        using var dir = new TempFolder();
        var a = Architectures.Get(arch);
        var hp = Tiny.HyperParameters(a);
        using var trainer = Trainer.Create(a, hp, Tiny.Options(maxSteps: 6), Tiny.Corpus(), CPU, dir.Path);
        trainer.Run();
        using var loaded = TrainedModel.Load(Path.Combine(dir.Path, Trainer.LastCheckpoint), CPU);

        trainer.Model.eval();
        using var _ = no_grad();
        var x = a.IsStateful ? randint(0, loaded.Vocabulary.Size, [7, 2], dtype: ScalarType.Int64) : randint(0, loaded.Vocabulary.Size, [2, a.WindowLength(hp)], dtype: ScalarType.Int64);
        var (expected, _) = trainer.Model.Forward(x, null);
        var (actual, _) = loaded.Model.Forward(x, null);
        // A model loaded to generate steps with MKL-packed weights where it can: equal to rounding, summed in another order.
        var packed = loaded.Model is StatefulLstm { PackedForGeneration: true };
        Assert.Equal(arch == "stateful-lstm" && MklPackedWeight.Available, packed);
        Assert.True(packed ? expected.allclose(actual, rtol: 1e-5, atol: 1e-6) : expected.Equals(actual));
        Assert.Equal(trainer.Vocabulary.Symbols, loaded.Vocabulary.Symbols);
        Assert.Equal(arch, loaded.Metadata.Architecture);
        Assert.Equal(Tiny.Corpus().Sha256, loaded.Metadata.Corpus.Sha256);
        Assert.Equal(6, loaded.Metadata.Position.Step);
    }

    /// <summary>The LSTM is laid out per device (one-layer nn.LSTMs on the CPU, one n-layer nn.LSTM on CUDA); its checkpoints are not.</summary>
    [Fact]
    public void An_LSTM_checkpoint_trained_on_the_CPU_loads_into_the_layout_built_for_CUDA()
    {
        using var dir = new TempFolder();
        var path = TrainAndSave(dir);
        using var checkpoint = CheckpointFile.Read(path);
        var (_, _, vocabulary, forCpu) = TrainedModel.Build(checkpoint, path);
        var (_, _, _, forCuda) = TrainedModel.Build(checkpoint, path, DeviceType.CUDA); // built on the CPU, laid out for CUDA
        using (forCpu)
        using (forCuda)
        {
            Assert.NotEqual(forCpu.named_parameters().Select(p => p.name), forCuda.named_parameters().Select(p => p.name));
            forCpu.eval();
            forCuda.eval();
            var x = randint(0, vocabulary.Size, [7, 2], dtype: ScalarType.Int64);
            var (expected, _) = forCpu.Forward(x, null); // gradients on: nn.LSTM runs in both
            var (actual, _) = forCuda.Forward(x, null);
            Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-5), $"logits differ by {(actual - expected).abs().max().item<float>()}");
        }
    }

    [Fact]
    public void A_listing_reads_a_checkpoints_metadata_once_per_version_of_the_file()
    {
        using var dir = new TempFolder();
        var path = TrainAndSave(dir);
        var settled = DateTime.UtcNow.AddMinutes(-1);
        File.SetLastWriteTimeUtc(path, settled);
        Assert.Equal(6, CheckpointMetadataCache.Read(path).Position.Step);

        // The same bytes damaged in place, length and write time kept: not read again (no whole-file hash per listing).
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, settled);
        Assert.Equal(6, CheckpointMetadataCache.Read(path).Position.Step);

        // A new version (its own write time) is read again, and the damage found.
        File.SetLastWriteTimeUtc(path, settled.AddSeconds(1));
        Assert.Contains("damaged or truncated", Assert.Throws<CheckpointException>(() => CheckpointMetadataCache.Read(path)).Message);
        Assert.Throws<CheckpointException>(() => CheckpointMetadataCache.Read(path)); // and kept with it
    }

    [Fact]
    public void A_damaged_file_fails_with_an_error_naming_it()
    {
        using var dir = new TempFolder();
        var path = TrainAndSave(dir);
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointException>(() => TrainedModel.Load(path, CPU));
        Assert.Contains(path, e.Message);
        Assert.Contains("damaged or truncated", e.Message);
    }

    [Fact]
    public void A_truncated_file_fails_cleanly()
    {
        using var dir = new TempFolder();
        var path = TrainAndSave(dir);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);
        Assert.Contains("damaged or truncated", Assert.Throws<CheckpointException>(() => CheckpointFile.Read(path)).Message);
        // Cut inside its header, or left empty, it is still a damaged checkpoint (exit 1 on the CLI), not a foreign file.
        foreach (var (length, problem) in new[] { (10, "(10 bytes)"), (30, "(30 bytes)"), (0, "(empty)") })
        {
            File.WriteAllBytes(path, bytes[..length]);
            var e = Assert.Throws<CheckpointException>(() => CheckpointFile.Read(path));
            Assert.Contains($"damaged or truncated {problem}", e.Message);
            Assert.True(e.Damaged);
        }
        File.WriteAllText(path, "hi");
        Assert.False(Assert.Throws<CheckpointException>(() => CheckpointFile.Read(path)).Damaged); // short, and not a checkpoint's start
    }

    [Fact]
    public void A_foreign_file_is_not_taken_for_a_checkpoint()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("x.ckpt"), "just some text that is long enough to have a header and a hash at its end");
        Assert.Contains("not a CharRnn checkpoint", Assert.Throws<CheckpointException>(() => CheckpointFile.Read(dir.File("x.ckpt"))).Message);
    }

    /// <summary>A .safetensors export given where a checkpoint goes (charrnn generate FILE.safetensors): said to be one, with the import that makes a model of it.</summary>
    [Fact]
    public void An_export_given_as_a_checkpoint_is_refused_saying_it_is_one_to_import()
    {
        using var dir = new TempFolder();
        var file = dir.File("model.safetensors");
        using (var trained = TrainedModel.Load(TrainAndSave(dir), CPU))
            Export.PyTorchExport.Of(trained, "m/last.ckpt").Write(file);
        var e = Assert.Throws<CheckpointException>(() => CheckpointFile.Read(file));
        Assert.Equal($"Checkpoint '{file}' cannot be loaded: it is a .safetensors file, as charrnn export writes, not a checkpoint; " +
                     "make a model of it with charrnn import FILE --name NAME, then use that model.", e.Message);
        Assert.False(e.Damaged);
    }

    [Fact]
    public void Weights_that_do_not_match_the_described_architecture_are_reported()
    {
        using var dir = new TempFolder();
        var path = TrainAndSave(dir);
        using (var checkpoint = CheckpointFile.Read(path))
        {
            checkpoint.Metadata.HyperParameters["n_hidden"] = 16;
            CheckpointFile.Write(path, checkpoint);
        }
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var e = Assert.Throws<CheckpointException>(() => TrainedModel.Load(path, CPU));
        Assert.Contains("shape", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Throws<CheckpointException>(() => Trainer.Resume(path, Tiny.Corpus(), CPU, dir.Path));
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount); // the model built for the weights, and the file's tensors, are gone
    }

    [Fact]
    public void Only_the_latest_epochs_keep_their_sample_in_a_checkpoints_history()
    {
        using var dir = new TempFolder();
        var a = Architectures.Get("stateful-rnn");
        var epochs = Trainer.SampledEpochsKept + 2;
        var corpus = Tiny.Corpus(Tiny.Text(30));
        using (var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(epochs) with { SampleChars = 5 }, corpus, CPU, dir.Path))
            trainer.Run();
        var path = dir.File(Trainer.LastCheckpoint);
        var history = CheckpointFile.ReadMetadata(path).History;
        Assert.Equal(epochs, history.Count);
        Assert.All(history.Take(2), r => Assert.Null(r.Sample));
        Assert.All(history.Skip(2), r => Assert.False(string.IsNullOrEmpty(r.Sample)));

        // A checkpoint written before the limit, every sample kept, is trimmed when it is resumed.
        using (var checkpoint = CheckpointFile.Read(path))
        {
            var all = checkpoint.Metadata.History.Select(r => r with { Sample = "older" }).ToList();
            checkpoint.Metadata.History.Clear();
            checkpoint.Metadata.History.AddRange(all);
            CheckpointFile.Write(path, checkpoint);
        }
        using var resumed = Trainer.Resume(path, corpus, CPU, dir.Path, o => o with { Epochs = epochs + 1 });
        Assert.Equal([null, null], resumed.History.Take(2).Select(r => r.Sample));
        Assert.All(resumed.History.Skip(2), r => Assert.Equal("older", r.Sample));
    }

    [Fact]
    public void A_best_checkpoint_lost_between_an_epoch_ends_two_writes_is_restored_from_the_last_at_resume()
    {
        using var dir = new TempFolder();
        var a = Architectures.Get("stateful-gru");
        using (var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(epochs: 1), Tiny.Corpus(), CPU, dir.Path)) trainer.Run();
        var last = dir.File(Trainer.LastCheckpoint);
        var best = dir.File(Trainer.BestCheckpoint);
        var kept = File.ReadAllBytes(best);

        // Resuming with best.ckpt in place (it holds the recorded best) leaves it as it is.
        using (Trainer.Resume(last, Tiny.Corpus(), CPU, dir.Path)) { }
        Assert.Equal(kept, File.ReadAllBytes(best));

        // As if the process died after the epoch end's last.ckpt and before its best.ckpt.
        File.Delete(best);
        using (Trainer.Resume(last, Tiny.Corpus(), CPU, dir.Path)) { }
        Assert.Equal(File.ReadAllBytes(last), File.ReadAllBytes(best));
        Assert.Equal(CheckpointFile.ReadMetadata(last).Position.BestValidLoss, CheckpointFile.ReadMetadata(best).Position.BestValidLoss);
    }

    [Fact]
    public void A_model_trained_on_windows_line_endings_before_they_were_normalised_resumes_on_the_text_it_learned()
    {
        using var dir = new TempFolder();
        using var straightDir = new TempFolder();
        var file = dir.File("crlf.txt");
        File.WriteAllText(file, Tiny.Text(60).Replace(". ", ".\r\n"));
        var a = Architectures.Get("stateful-gru");
        // As an older build trained it: '\r' in its vocabulary, its positions counting the '\r's.
        var asTrained = Text.Corpus.FromFile(file).AsRead();
        using var straight = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(maxSteps: 8), asTrained, CPU, straightDir.Path);
        straight.Run();
        using (var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(maxSteps: 4), asTrained, CPU, dir.Path)) trainer.Run();
        using var resumed = Trainer.Resume(dir.File(Trainer.LastCheckpoint), Text.Corpus.FromFile(file), CPU, dir.Path, o => o with { MaxSteps = 8 });
        resumed.Run();
        Assert.Equal(8, resumed.Position.Step);
        Assert.Contains("\r", resumed.Vocabulary.Symbols);
        var b = resumed.Model.state_dict();
        foreach (var (name, tensor) in straight.Model.state_dict()) // exactly as if never stopped: on the same text
            Assert.True((tensor - b[name]).abs().max().item<float>() <= 1e-6f, $"weight {name} differs after resume");
    }

    [Fact]
    public void A_run_ended_between_epoch_ends_with_better_weights_saves_them_as_the_best()
    {
        using var dir = new TempFolder();
        var a = Architectures.Get("stateful-gru");
        using (var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(epochs: 1), Tiny.Corpus(), CPU, dir.Path)) trainer.Run();
        var last = dir.File(Trainer.LastCheckpoint);
        var best = dir.File(Trainer.BestCheckpoint);
        var epoch = CheckpointFile.ReadMetadata(last);

        // Half an epoch more: the run ends by max_steps, validates its last weights, and they beat epoch 1's.
        using (var resumed = Trainer.Resume(last, Tiny.Corpus(), CPU, dir.Path, o => o with { Epochs = 3, MaxSteps = epoch.Position.Step * 3 / 2 }))
            Assert.Equal(TrainingOutcomeKind.Finished, resumed.Run().Kind);
        var ended = CheckpointFile.ReadMetadata(last);
        Assert.NotEqual(0, ended.Position.Batch);
        Assert.True(ended.Validation!.Loss < epoch.History[^1].ValidLoss, $"{ended.Validation.Loss} vs epoch 1's {epoch.History[^1].ValidLoss}");
        var saved = CheckpointFile.ReadMetadata(best);
        Assert.Equal((ended.Position.Step, ended.Validation.Loss), (saved.Position.Step, saved.ValidationOfWeights!.Loss));
        Assert.Equal(ended.Validation.Loss, ended.Position.BestValidLoss);

        // Lost between the run end's two writes: restored from last.ckpt, whose weights that loss is of.
        File.Delete(best);
        using (Trainer.Resume(last, Tiny.Corpus(), CPU, dir.Path, o => o with { Epochs = 3, MaxSteps = 0 })) { }
        Assert.Equal(File.ReadAllBytes(last), File.ReadAllBytes(best));
    }

    [Fact]
    public void A_trainer_clears_temp_files_a_crash_left_in_its_folder_and_nothing_else()
    {
        using var dir = new TempFolder();
        var path = TrainAndSave(dir);
        string[] leftovers = [$".{Trainer.LastCheckpoint}.0123abcd.tmp", $".{Trainer.BestCheckpoint}.4567ef.tmp", $".{Trainer.CycleCheckpoint(2)}.89ab.tmp"];
        foreach (var name in leftovers) File.WriteAllText(dir.File(name), "half a checkpoint");
        File.WriteAllText(dir.File("notes.tmp"), "the user's own file");

        using var resumed = Trainer.Resume(path, Tiny.Corpus(), CPU, dir.Path);
        Assert.All(leftovers, name => Assert.False(File.Exists(dir.File(name)), name));
        Assert.True(File.Exists(dir.File("notes.tmp")));
        Assert.Equal(6, CheckpointFile.ReadMetadata(path).Position.Step);
    }

    [Fact]
    public void Writing_replaces_the_old_file_atomically_and_leaves_no_temp_files()
    {
        using var dir = new TempFolder();
        var path = TrainAndSave(dir);
        using (var checkpoint = CheckpointFile.Read(path))
            CheckpointFile.Write(path, checkpoint);
        Assert.Equal([Trainer.BestCheckpoint, Trainer.LastCheckpoint], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order()); // best: the run's end validated its weights
        Assert.Equal(6, CheckpointFile.ReadMetadata(path).Position.Step);
    }

    [Fact]
    public void A_write_that_fails_halfway_leaves_the_old_file_whole_and_no_temp_file()
    {
        using var dir = new TempFolder();
        var path = TrainAndSave(dir);
        var before = File.ReadAllBytes(path);
        var e = Assert.Throws<IOException>(() => CharRnn.Engine.Storage.AtomicFile.Write(path, stream =>
        {
            stream.Write(before.AsSpan(0, before.Length / 2)); // a disk that fills up midway
            throw new IOException("No space left on device");
        }));
        Assert.Equal("No space left on device", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([Trainer.BestCheckpoint, Trainer.LastCheckpoint], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order()); // best: the run's end validated its weights
        Assert.Equal(6, CheckpointFile.ReadMetadata(path).Position.Step);
    }

    [Fact]
    public void A_file_written_with_a_create_mode_is_never_readable_by_others_not_even_as_its_temp_file()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "keys.json");
        UnixFileMode? whileWritten = null;
        CharRnn.Engine.Storage.AtomicFile.Write(path, stream => whileWritten = OperatingSystem.IsWindows() ? null : File.GetUnixFileMode(((FileStream)stream).SafeFileHandle),
            createMode: UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, whileWritten); // was 0644 under umask 022: any local user could open the copy
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Model_folders_are_listed_and_an_unreadable_one_is_reported_not_fatal()
    {
        using var root = new TempFolder();
        var good = Directory.CreateDirectory(Path.Combine(root.Path, "good")).FullName;
        var bad = Directory.CreateDirectory(Path.Combine(root.Path, "bad")).FullName;
        var a = Architectures.Get("stateful-gru");
        using (var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(maxSteps: 2), Tiny.Corpus(), CPU, good)) trainer.Run();
        File.WriteAllText(Path.Combine(bad, Trainer.LastCheckpoint), "garbage");
        // A file no checkpoint can be (over the 2 GB one holds; sparse, so it takes no disk) is listed with its error too.
        var huge = Directory.CreateDirectory(Path.Combine(root.Path, "huge")).FullName;
        using (var f = File.Create(Path.Combine(huge, Trainer.LastCheckpoint))) f.SetLength(3L << 30);
        File.WriteAllText(Path.Combine(good, ".last.ckpt.0123.tmp"), "a checkpoint being written"); // not counted in the size
        var list = ModelFolder.List(root.Path);
        Assert.Equal(["bad", "good", "huge"], list.Select(m => m.Name));
        Assert.NotNull(list[0].Error);
        Assert.Contains("cannot be read", list[2].Error);
        Assert.Equal(Directory.GetFiles(good).Where(f => !Path.GetFileName(f).StartsWith('.')).Sum(f => new FileInfo(f).Length), list[1].Bytes);
        Assert.Equal("stateful-gru", list[1].Metadata!.Architecture);
        Assert.Contains("no such model", Assert.Throws<CheckpointException>(() => ModelFolder.CheckpointForGeneration(Path.Combine(root.Path, "none"))).Message);
    }

    [Fact]
    public void A_model_is_described_by_its_latest_training_state_and_generates_from_its_best()
    {
        using var root = new TempFolder();
        var a = Architectures.Get("stateful-gru");
        var older = Directory.CreateDirectory(Path.Combine(root.Path, "older")).FullName;
        var model = Directory.CreateDirectory(Path.Combine(root.Path, "model")).FullName;
        using (var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(epochs: 1), Tiny.Corpus(), CPU, older)) trainer.Run();
        using (var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(epochs: 2), Tiny.Corpus(), CPU, model)) trainer.Run();
        // As when the second epoch did not beat the first's validation loss: best.ckpt stays at epoch 1.
        File.Copy(Path.Combine(older, Trainer.BestCheckpoint), Path.Combine(model, Trainer.BestCheckpoint), overwrite: true);

        var listing = ModelFolder.Describe(model);
        Assert.Equal(Path.Combine(model, Trainer.BestCheckpoint), listing.CheckpointPath);
        Assert.Equal(2, listing.Metadata!.Position.Epoch);
        Assert.Equal(2, listing.Metadata.History.Count);
        Assert.Equal(2, listing.Metadata.Training.Epochs);

        // A damaged last.ckpt leaves the model listed by its best, which generation still uses.
        File.WriteAllText(Path.Combine(model, Trainer.LastCheckpoint), "garbage");
        listing = ModelFolder.Describe(model);
        Assert.Null(listing.Error);
        Assert.Equal(1, listing.Metadata!.Position.Epoch);
        Assert.StartsWith("last.ckpt cannot be loaded (", listing.Warning);
        Assert.EndsWith("generation uses best.ckpt, which is intact: to resume from it, copy it to last.ckpt", listing.Warning);
        Assert.DoesNotContain(model, listing.Warning); // no path: a server shows it to every caller
    }

    [Fact]
    public void A_damaged_best_checkpoint_beside_an_intact_last_is_listed_generating_from_last_with_a_warning()
    {
        using var root = new TempFolder();
        var a = Architectures.Get("stateful-gru");
        var model = Directory.CreateDirectory(Path.Combine(root.Path, "model")).FullName;
        using (var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(epochs: 1), Tiny.Corpus(), CPU, model)) trainer.Run();
        var best = Path.Combine(model, Trainer.BestCheckpoint);
        File.WriteAllBytes(best, File.ReadAllBytes(best)[..1000]);

        var listing = ModelFolder.Describe(model);
        Assert.Null(listing.Error);
        Assert.Equal(Path.Combine(model, Trainer.LastCheckpoint), listing.CheckpointPath); // what generation falls back to
        Assert.Equal(1, listing.Metadata!.Position.Epoch);
        Assert.StartsWith("best.ckpt cannot be loaded (it is damaged or truncated", listing.Warning);
        Assert.Contains("generation uses last.ckpt", listing.Warning);
        Assert.DoesNotContain(model, listing.Warning); // no path: a server shows it to every caller
    }
}
