namespace CharRnn.ModelServer.Services;

/// <summary>What one API key (by name) uses now of its per-key quotas: open sessions, running plus queued jobs, chars in the last minute, models, uploaded corpora.</summary>
public sealed record KeyUsage(string Key, int Sessions, int Jobs, long CharsLastMinute, int Models, int Corpora);
