using System.Globalization;

namespace CharRnn.Engine.Training;

/// <summary>
/// A value per layer group, as the lesson's LayerOptimizer takes learning rates and weight
/// decays: embedding, recurrent (everything between), output. "1e-3" sets all three;
/// "1e-4,1e-3,1e-3" sets them one by one.
/// </summary>
public readonly record struct LayerGroupValues(double Embedding, double Recurrent, double Output)
{
    public static LayerGroupValues All(double value) => new(value, value, value);

    // Equals, not ==: one NaN sent is one value, reported as sent (NaN, not NaN,NaN,NaN).
    public bool IsUniform => Embedding.Equals(Recurrent) && Recurrent.Equals(Output);

    public double this[LayerGroup group] => group switch
    {
        LayerGroup.Embedding => Embedding,
        LayerGroup.Recurrent => Recurrent,
        _ => Output,
    };

    /// <summary>
    /// The values of <paramref name="spec"/>'s setting (lr, wd) typed as one number or three, from its range. A refusal
    /// names the setting and the text as typed, in the words charrnn's number flags are refused in
    /// (`lr = -1 is not allowed; give a number from 0 to 10, or three …`; the command line says `--lr -1`).
    /// </summary>
    public static LayerGroupValues Parse(string text, Models.HyperParameterSpec spec) => Parse(text, spec.Name, spec.Min, spec.Max);

    /// <inheritdoc cref="Parse(string, Models.HyperParameterSpec)"/>
    public static LayerGroupValues Parse(string text, string name, double min, double max)
    {
        var allowed = $"a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, " +
                      "or three such numbers separated by commas (embedding,recurrent,output)";
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length is not (1 or 3))
            throw new ArgumentException($"{name} = {Text.Echo.Of(text)} is not allowed; give {allowed}.");
        var values = parts.Select(p =>
        {
            if (!double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                throw new ArgumentException(parts.Length == 1
                    ? $"{name} = '{Text.Echo.Of(text)}' is not a number; give {allowed}, like 0.5 or 2e-3."
                    : $"{name} = '{Text.Echo.Of(text)}' holds '{Text.Echo.Of(p)}', which is not a number; give {allowed}, like 0.5 or 2e-3.");
            return v;
        }).ToArray();
        if (values.Any(v => v < min || v > max))
            throw new ArgumentException($"{name} = {Text.Echo.Of(text)} is not allowed; give {allowed}.");
        return values.Length == 1 ? All(values[0]) : new LayerGroupValues(values[0], values[1], values[2]);
    }

    public void Validate(string name, double min, double max)
    {
        foreach (var v in new[] { Embedding, Recurrent, Output })
            if (!double.IsFinite(v) || v < min || v > max)
                throw new ArgumentException($"{name} = {ToString()} is not allowed; each value must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}.");
    }

    public override string ToString() => IsUniform
        ? Embedding.ToString("G6", CultureInfo.InvariantCulture)
        : string.Join(",", new[] { Embedding, Recurrent, Output }.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)));
}

/// <summary>Which part of the model a parameter belongs to, for per-group learning rates.</summary>
public enum LayerGroup { Embedding, Recurrent, Output }

public static class LayerGroups
{
    /// <summary>Models name their embedding "e" and output layer "l_out" (as the lesson does); the rest is recurrent.</summary>
    public static LayerGroup Of(string parameterName) =>
        parameterName.StartsWith("e.", StringComparison.Ordinal) ? LayerGroup.Embedding
        : parameterName.StartsWith("l_out.", StringComparison.Ordinal) ? LayerGroup.Output
        : LayerGroup.Recurrent;
}
