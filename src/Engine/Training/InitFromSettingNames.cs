namespace CharRnn.Engine.Training;

/// <summary>
/// How <see cref="InitFromSource.CheckGiven"/>'s refusals name the settings that come from the source: as the caller
/// spelled them, so that the message (and a server's field at fault) points at what to leave out.
/// <paramref name="HyperParameterFormat"/> holds {0} for the hyperparameter's name.
/// </summary>
public sealed record InitFromSettingNames(string Architecture, string HyperParameterFormat, string Lowercase, string MinFrequency)
{
    /// <summary>The engine's own words (charrnn train --init-from's): architecture, n_hidden, lower, min_freq.</summary>
    public static readonly InitFromSettingNames Plain = new("architecture", "{0}", "lower", "min_freq");

    public string HyperParameter(string key) => string.Format(System.Globalization.CultureInfo.InvariantCulture, HyperParameterFormat, key);
}
