namespace CharRnn.Engine.Models;

/// <summary>A hyperparameter was unknown or out of range. <see cref="Parameter"/> names it.</summary>
public sealed class HyperParameterException(string parameter, string message) : ArgumentException(message)
{
    public string Parameter { get; } = parameter;
}
