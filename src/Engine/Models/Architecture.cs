using TorchSharp;

namespace CharRnn.Engine.Models;

/// <summary>A model of the lesson under a stable name, with its hyperparameters and how to build it.</summary>
public sealed class Architecture
{
    private readonly Func<HyperParameters, int, DeviceType, CharModel> _create;

    public Architecture(string name, string summary, DataLayout layout, IReadOnlyList<HyperParameterSpec> parameters,
        double learningRate, double weightDecay, Func<HyperParameters, int, DeviceType, CharModel> create,
        int? fixedWindowLength = null)
    {
        // Training and its memory estimate read these by name: missing, they would fail only at a
        // first training, with "Hyperparameter 'bptt' is not defined here".
        var missing = RequiredHyperParameters(layout, fixedWindowLength is not null).Where(r => parameters.All(p => p.Name != r)).ToArray();
        if (missing.Length > 0)
            throw new ArgumentException($"architecture '{name}' ({layout}) must declare {string.Join(", ", missing)}: training reads them " +
                $"(every layout: bs, n_fac, n_hidden; {DataLayout.Stream}: also bptt, random_bptt; a windowed one without a fixed window: also context).");
        FixedWindowLength = fixedWindowLength;
        Name = name;
        Summary = summary;
        Layout = layout;
        Parameters = parameters;
        DefaultLearningRate = learningRate;
        DefaultWeightDecay = weightDecay;
        _create = create;
    }

    public string Name { get; }
    public string Summary { get; }
    public DataLayout Layout { get; }
    public IReadOnlyList<HyperParameterSpec> Parameters { get; }

    /// <summary>The hyperparameters that training data and the footprint estimate read for a layout.</summary>
    public static IReadOnlyList<string> RequiredHyperParameters(DataLayout layout, bool fixedWindow) => layout switch
    {
        DataLayout.Stream => ["bs", "n_fac", "n_hidden", "bptt", "random_bptt"],
        _ when fixedWindow => ["bs", "n_fac", "n_hidden"],
        _ => ["bs", "n_fac", "n_hidden", "context"],
    };

    public double DefaultLearningRate { get; }
    public double DefaultWeightDecay { get; }
    public bool IsStateful => Layout == DataLayout.Stream;

    /// <summary>A windowed model's fixed window, when it has no context hyperparameter (char3 reads three).</summary>
    public int? FixedWindowLength { get; }

    /// <summary>Characters between the starts of two next-char windows: 1 unless its windows do not overlap.</summary>
    public int WindowStride { get; init; } = 1;

    /// <summary>Gate blocks per recurrent layer (GRU 3, LSTM 4), for the footprint estimate.</summary>
    public int RecurrentGates { get; init; } = 1;

    /// <summary>Whether the input layer also reads the hidden state (loop-concat), for the footprint estimate.</summary>
    public bool InputReadsHidden { get; init; }

    /// <summary>Characters a windowed model reads: its fixed window, else its context.</summary>
    public int WindowLength(HyperParameters hp) => FixedWindowLength ?? hp.Int("context");

    public HyperParameters Resolve(IReadOnlyDictionary<string, double>? given = null) =>
        HyperParameters.Resolve(Parameters, given, $"architecture '{Name}'");

    /// <summary>
    /// Builds the model on the CPU; move it with .to(device). <paramref name="target"/> is the
    /// device it is built for: a model may lay out its modules for it (the LSTM does), never its
    /// weights, so a checkpoint loads onto any device.
    /// </summary>
    public CharModel Create(HyperParameters hyperParameters, int vocabSize, DeviceType target = DeviceType.CPU)
    {
        var model = _create(hyperParameters, vocabSize, target);
        // Checked here, where a new architecture is first built (ModelTests build each one), not
        // later as "Sequence contains no elements" or a checkpoint error naming another model.
        if (model.GetName() != Name)
        {
            model.Dispose();
            throw new InvalidOperationException($"architecture '{Name}' built a model named '{model.GetName()}'; " +
                $"pass '{Name}', its registry name, to the base constructor.");
        }
        if (!model.parameters().Any())
        {
            model.Dispose();
            throw new InvalidOperationException($"architecture '{Name}' built a model with no registered parameters; " +
                "call RegisterComponents() in its constructor.");
        }
        return model;
    }
}
