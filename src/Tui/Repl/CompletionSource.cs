namespace CharRnn.Tui.Repl;

/// <summary>Names the completer offers, refreshed from the server from time to time.</summary>
public sealed class CompletionSource
{
    private volatile Snapshot _current = new([], new Dictionary<string, string[]>(), [], [], [], [], []);

    /// <param name="Jobs">Jobs' ids and their models' names (stop and attach take either).</param>
    /// <param name="Optimizers">The values the server takes for optimizer=.</param>
    /// <param name="YesNoKeys">Training options and hyperparameters the server takes as yes/no (lower=, keep_cycles=, …).</param>
    public sealed record Snapshot(string[] Architectures, IReadOnlyDictionary<string, string[]> HyperParameters, string[] Models, string[] Jobs, string[] Corpora,
        string[] Optimizers, string[] YesNoKeys);

    public Snapshot Current => _current;

    public void Update(Snapshot snapshot) => _current = snapshot;
}
