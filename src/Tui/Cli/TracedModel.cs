namespace CharRnn.Tui.Cli;

/// <summary>What was traced, for charrnn neurons' header lines and JSON.</summary>
public sealed record TracedModel(string Path, string Architecture, int Layer, int Layers, int Cells, int Characters);
