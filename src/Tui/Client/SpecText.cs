using System.Globalization;
using CharRnn.Protos.V1;

namespace CharRnn.Tui.Client;

/// <summary>Hyperparameter specs from the server as a person reads and types them.</summary>
public static class SpecText
{
    public static string Format(HyperParameterSpec spec, double value) => spec.Type switch
    {
        HyperParameterSpec.Types.Type.Bool => value != 0 ? "true" : "false",
        HyperParameterSpec.Types.Type.Int => ((long)value).ToString(CultureInfo.InvariantCulture),
        _ => value.ToString("G4", CultureInfo.InvariantCulture),
    };

    public static string Range(HyperParameterSpec spec) => spec.Type == HyperParameterSpec.Types.Type.Bool
        ? "true or false"
        : $"{Format(spec, spec.Min)} to {Format(spec, spec.Max)}";
}
