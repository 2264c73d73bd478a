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
        _ => Real(value),
    };

    /// <summary>A real number as the README writes it: wd 1e-5, not G4's 1E-05; otherwise four significant digits.</summary>
    public static string Real(double value) =>
        Math.Abs(value) < 1e-3 ? Engine.Models.HyperParameterSpec.Number(value) : value.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>
    /// The values a hyperparameter takes, every bound written out as charrnn train's refusals write it ("0 to
    /// 1000000000000"): the REPL's arch and key refusals, where a line has the room.
    /// </summary>
    public static string Range(HyperParameterSpec spec) => Range(spec, powersOfTen: false);

    /// <summary>
    /// The range for the Models form's hint column, a bound of a million or more as a power of ten (1e12, 1e6): written
    /// out, max_steps' 1000000000000 did not fit that column at 100 columns ("0 to ").
    /// </summary>
    public static string FormRange(HyperParameterSpec spec) => Range(spec, powersOfTen: true);

    private static string Range(HyperParameterSpec spec, bool powersOfTen) => spec.Type == HyperParameterSpec.Types.Type.Bool
        ? "true or false"
        : $"{Bound(spec, spec.Min, powersOfTen)} to {Bound(spec, spec.Max, powersOfTen)}";

    /// <summary>
    /// A bound below a million as Format writes it; a larger one written out (clip's G4 showed 1E+06), or as a power of ten
    /// where asked. A whole bound that form does not give exactly is written out: seed's int.MaxValue read "2.147484e9", a
    /// bound above the real one.
    /// </summary>
    private static string Bound(HyperParameterSpec spec, double value, bool powersOfTen)
    {
        if (Math.Abs(value) < 1e6) return Format(spec, value);
        var whole = Math.Floor(value) == value ? ((long)value).ToString(CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture);
        if (!powersOfTen) return whole;
        var power = value.ToString("0.######e0", CultureInfo.InvariantCulture);
        return spec.Type == HyperParameterSpec.Types.Type.Int && double.Parse(power, CultureInfo.InvariantCulture) != value ? whole : power;
    }
}
