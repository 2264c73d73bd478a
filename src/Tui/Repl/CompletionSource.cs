namespace CharRnn.Tui.Repl;

/// <summary>Names the completer offers, refreshed from the server from time to time.</summary>
public sealed class CompletionSource
{
    private volatile Snapshot _current = new([], new Dictionary<string, string[]>(), [], [], []);

    /// <param name="Jobs">Jobs' ids and their models' names (stop and attach take either).</param>
    public sealed record Snapshot(string[] Architectures, IReadOnlyDictionary<string, string[]> HyperParameters, string[] Models, string[] Jobs, string[] Corpora);

    public Snapshot Current => _current;

    public void Update(Snapshot snapshot) => _current = snapshot;
}
