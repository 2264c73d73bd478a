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
