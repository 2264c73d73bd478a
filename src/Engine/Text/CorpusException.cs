namespace CharRnn.Engine.Text;

/// <summary>A corpus could not be found, fetched or read; the message says what to do.</summary>
public sealed class CorpusException(string message) : Exception(message);
