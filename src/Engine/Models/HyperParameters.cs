using CharRnn.Engine.Text;

namespace CharRnn.Engine.Models;

/// <summary>A full, validated set of values for a list of specs (defaults filled in).</summary>
public sealed class HyperParameters
{
    private readonly Dictionary<string, double> _values;

    private HyperParameters(IReadOnlyList<HyperParameterSpec> specs, Dictionary<string, double> values)
    {
        Specs = specs;
        _values = values;
    }

    public IReadOnlyList<HyperParameterSpec> Specs { get; }
    public IReadOnlyDictionary<string, double> Values => _values;

    /// <summary>Defaults, overridden by <paramref name="given"/>; unknown names and bad values are errors.</summary>
    public static HyperParameters Resolve(IReadOnlyList<HyperParameterSpec> specs, IReadOnlyDictionary<string, double>? given = null, string owner = "this architecture")
    {
        var values = specs.ToDictionary(s => s.Name, s => s.Default);
        foreach (var (name, value) in given ?? new Dictionary<string, double>())
        {
            var spec = specs.FirstOrDefault(s => s.Name == name)
                ?? throw new HyperParameterException(name, $"'{Echo.Of(name)}' is not a hyperparameter of {owner}; it has: {string.Join(", ", specs.Select(s => s.Name))}.");
            values[name] = spec.Validate(value);
        }
        return new HyperParameters(specs, values);
    }

    public int Int(string name) => (int)Get(name);
    public double Float(string name) => Get(name);
    public bool Bool(string name) => Get(name) != 0;

    public double Get(string name) => _values.TryGetValue(name, out var value)
        ? value
        : throw new KeyNotFoundException($"Hyperparameter '{name}' is not defined here.");

    public override string ToString() =>
        string.Join(" ", Specs.Select(s => $"{s.Name}={s.Format(_values[s.Name])}"));
}
