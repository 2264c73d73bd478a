using TorchSharp;

namespace CharRnn.Engine.Models;

/// <summary>A model of the lesson under a stable name, with its hyperparameters and how to build it.</summary>
public sealed class Architecture
{
    private readonly Func<HyperParameters, int, DeviceType, CharModel> _create;

    public Architecture(string name, string summary, DataLayout layout, IReadOnlyList<HyperParameterSpec> parameters,
        double learningRate, double weightDecay, Func<HyperParameters, int, DeviceType, CharModel> create)
    {
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
    public double DefaultLearningRate { get; }
    public double DefaultWeightDecay { get; }
    public bool IsStateful => Layout == DataLayout.Stream;

    /// <summary>A windowed model's fixed window, when it has no context hyperparameter (char3 reads three).</summary>
    public int? FixedWindowLength { get; init; }

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
    public CharModel Create(HyperParameters hyperParameters, int vocabSize, DeviceType target = DeviceType.CPU) =>
        _create(hyperParameters, vocabSize, target);
}
