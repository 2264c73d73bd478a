namespace CharRnn.ModelServer.Persistence;

/// <summary>One of a job's events as stored: <paramref name="Payload"/> is its JSON (the Jobs layer reads and writes it).</summary>
public sealed record StoredJobEvent(string JobId, long Sequence, DateTimeOffset Time, long Step, string Payload);
