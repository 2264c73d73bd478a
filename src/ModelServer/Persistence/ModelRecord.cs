namespace CharRnn.ModelServer.Persistence;

/// <summary>Who owns a model, and whether others may read (use) it.</summary>
public sealed record ModelRecord(string Name, string Owner, bool Shared);
