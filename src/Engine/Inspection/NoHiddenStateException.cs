using CharRnn.Engine.Models;

namespace CharRnn.Engine.Inspection;

/// <summary>The model carries no hidden state between chars (a windowed one): it has nothing to trace.</summary>
public sealed class NoHiddenStateException(string architecture) : ArgumentException(
    $"'{architecture}' reads a window of the last few chars afresh at each step and carries no hidden state from char to char, so it has no cells to trace. " +
    $"Models that do: {string.Join(", ", Architectures.All.Where(a => a.IsStateful).Select(a => a.Name))}.");
