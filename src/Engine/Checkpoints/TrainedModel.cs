using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Checkpoints;

/// <summary>A model loaded from a checkpoint for generation: architecture, vocabulary and weights, in eval mode.</summary>
public sealed class TrainedModel : IDisposable
{
    private TrainedModel(string path, CheckpointMetadata metadata, Architecture architecture, HyperParameters hyperParameters,
        Vocabulary vocabulary, CharModel model)
    {
        Path = path;
        Metadata = metadata;
        Architecture = architecture;
        HyperParameters = hyperParameters;
        Vocabulary = vocabulary;
        Model = model;
    }

    public string Path { get; }
    public CheckpointMetadata Metadata { get; }
    public Architecture Architecture { get; }
    public HyperParameters HyperParameters { get; }
    public Vocabulary Vocabulary { get; }
    public CharModel Model { get; }

    /// <param name="precision">What the model's generation products compute in (<see cref="CharModel.PrepareForGeneration"/>).</param>
    public static TrainedModel Load(string path, Device device, GenerationPrecision precision = GenerationPrecision.Float32)
    {
        using var checkpoint = CheckpointFile.Read(path);
        var (architecture, hyperParameters, vocabulary, model) = Build(checkpoint, path, device.type);
        try
        {
            model.to(device);
            model.eval();
            model.PrepareForGeneration(precision);
            return new TrainedModel(path, checkpoint.Metadata, architecture, hyperParameters, vocabulary, model);
        }
        catch
        {
            model.Dispose(); // a server that fails a load (out of device memory) lives on
            throw;
        }
    }

    /// <summary>
    /// Loads <paramref name="path"/> to generate from; when it is a folder's best.ckpt that cannot be
    /// read (a bad copy, a disk error) and its last.ckpt is there, that one instead, after telling
    /// <paramref name="fellBack"/> why: a damaged best.ckpt must not make a model unusable.
    /// </summary>
    public static TrainedModel LoadForGeneration(string path, Device device, Action<CheckpointException>? fellBack = null,
        GenerationPrecision precision = GenerationPrecision.Float32)
    {
        var last = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path) ?? "", Training.Trainer.LastCheckpoint); // as the caller writes paths: its caches compare them
        try { return Load(path, device, precision); }
        catch (CheckpointException e) when (System.IO.Path.GetFileName(path) == Training.Trainer.BestCheckpoint && File.Exists(last))
        {
            fellBack?.Invoke(e);
            return Load(last, device, precision);
        }
    }

    /// <summary>Rebuilds the model a checkpoint describes, for <paramref name="target"/>, and loads its weights (on the CPU).</summary>
    public static (Architecture, HyperParameters, Vocabulary, CharModel) Build(Checkpoint checkpoint, string path, DeviceType target = DeviceType.CPU)
    {
        var meta = checkpoint.Metadata;
        Architecture architecture;
        HyperParameters hyperParameters;
        Vocabulary vocabulary;
        try
        {
            architecture = Architectures.Get(meta.Architecture);
            hyperParameters = architecture.Resolve(meta.HyperParameters);
            vocabulary = meta.Vocabulary.ToVocabulary();
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException(path, e.Message);
        }
        CharModel model;
        lock (Runtime.TorchRuntime.DefaultGenerators) model = architecture.Create(hyperParameters, vocabulary.Size, target); // a seeded build meanwhile must draw alone
        try { LoadWeights(model, checkpoint, path); }
        catch
        {
            model.Dispose();
            throw;
        }
        return (architecture, hyperParameters, vocabulary, model);
    }

    public static void LoadWeights(CharModel model, Checkpoint checkpoint, string path)
    {
        var weights = checkpoint.WithPrefix("model/").ToDictionary(kv => kv.Key["model/".Length..], kv => kv.Value);
        var expected = model.state_dict();
        var missing = expected.Keys.Except(weights.Keys).ToList();
        var unexpected = weights.Keys.Except(expected.Keys).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new CheckpointException(path, $"its weights do not match architecture '{model.GetName()}' " +
                $"(missing: [{string.Join(", ", missing)}], unexpected: [{string.Join(", ", unexpected)}])");
        model.WeightsChanged();
        using var _ = no_grad();
        foreach (var (name, target) in expected)
        {
            var source = weights[name];
            if (!source.shape.SequenceEqual(target.shape))
                throw new CheckpointException(path, $"weight '{name}' has shape [{string.Join(", ", source.shape)}], the model expects [{string.Join(", ", target.shape)}]");
            target.copy_(source);
        }
    }

    public void Dispose() => Model.Dispose();
}
