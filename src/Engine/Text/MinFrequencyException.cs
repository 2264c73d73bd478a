namespace CharRnn.Engine.Text;

/// <summary>min_freq would leave fewer than 2 characters of the corpus known.</summary>
public sealed class MinFrequencyException(string message) : ArgumentException(message);
