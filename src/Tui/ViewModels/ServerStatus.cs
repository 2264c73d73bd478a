using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;
using Grpc.Core;

namespace CharRnn.Tui.ViewModels;

/// <summary>
/// Polls the server every couple of seconds in the background: connection, device, sessions,
/// jobs, the model list, and the names tab completion offers. The UI never waits on it.
/// </summary>
public sealed class ServerStatus(CharRnnClient client, CompletionSource completion, string serverLabel = "the server") : IAsyncDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _notices = new();
    private State? _announced; // as last told: a change is a line for the log, where the status bar's few words may be cut

    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    // The status bar's text, longest first: each shorter one drops what matters less, the connection's state last.
    private volatile string[] _lines = ["connecting…"];
    private volatile IReadOnlyList<ModelSummary> _models = [];
    private volatile ListArchitecturesResponse? _architectures;
    private volatile IReadOnlyList<CorpusInfo>? _corpora;
    private int _version;

    /// <summary>The status bar's text in full.</summary>
    public string Line => _lines[0];

    /// <summary>
    /// The longest form of <see cref="Line"/> that fits <paramref name="columns"/>: a narrow terminal keeps whether
    /// the server answers (connected, disconnected, refused) and drops the counts and reasons first.
    /// </summary>
    public string LineFitting(int columns)
    {
        var lines = _lines;
        return lines.FirstOrDefault(l => l.Length <= columns) ?? lines[^1];
    }

    public bool Connected { get; private set; }
    /// <summary>Why the last poll failed, in the REPL's words (empty while connected).</summary>
    public string Problem { get; private set; } = "";
    /// <summary>The server answered but refused this client (its key): polling again will not change that.</summary>
    public bool Refused { get; private set; }
    public IReadOnlyList<ModelSummary> Models => _models;
    public ListArchitecturesResponse? Architectures => _architectures;
    /// <summary>The corpora the server listed at the last poll; null until one answered.</summary>
    public IReadOnlyList<CorpusInfo>? Corpora => _corpora;
    public int Version => Volatile.Read(ref _version);

    /// <summary>The next line for the log about the connection (lost, refused, back), or null.</summary>
    public string? TakeNotice() => _notices.TryDequeue(out var notice) ? notice : null;

    /// <summary>
    /// One poll's outcome, set whole (a refresh and the loop may poll at once), with a line for the
    /// log when the state changed: lost, refused, or back. A server that went from unreachable to
    /// refusing the key (restarted with keys) says so too.
    /// </summary>
    private void Record(bool connected, bool refused, string problem, params string[] lines)
    {
        lock (_notices)
        {
            (Connected, Refused, Problem, _lines) = (connected, refused, problem, lines);
            var state = connected ? State.Connected : refused ? State.Refused : State.Unreachable;
            if (state != _announced && (_announced != null || state != State.Connected))
                _notices.Enqueue(state switch
                {
                    // "again" only where it was: charrnn --server started ahead of its server said it of a first connection.
                    State.Connected => _everConnected ? $"Connected to {serverLabel} again." : $"Connected to {serverLabel}.",
                    State.Refused => $"{serverLabel} refused this client: {problem}",
                    _ => $"No answer from {serverLabel}: {problem}; retrying every few seconds (commands fail until it answers).",
                });
            _announced = state;
            _everConnected |= connected;
        }
    }

    private bool _everConnected;

    private enum State { Connected, Refused, Unreachable }

    public void Start(TimeSpan period) => _loop = Task.Run(() => Loop(period));

    /// <summary>Polls once now (after a command changed something).</summary>
    public Task RefreshAsync() => Poll(_stop.Token);

    private async Task Loop(TimeSpan period)
    {
        while (!_stop.IsCancellationRequested)
        {
            await Poll(_stop.Token);
            try { await Task.Delay(period, _stop.Token); } catch (OperationCanceledException) { return; }
        }
    }

    private async Task Poll(CancellationToken ct)
    {
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(5);
            var info = await client.Catalog.GetServerInfoAsync(new GetServerInfoRequest(), deadline: deadline, cancellationToken: ct);
            _architectures ??= await client.Catalog.ListArchitecturesAsync(new ListArchitecturesRequest(), deadline: deadline, cancellationToken: ct);
            var models = (await client.Catalog.ListModelsAsync(new ListModelsRequest(), deadline: deadline, cancellationToken: ct)).Models;
            var jobs = (await client.Training.ListJobsAsync(new ListJobsRequest(), deadline: deadline, cancellationToken: ct)).Jobs;
            var corpora = (await client.Catalog.ListCorporaAsync(new ListCorporaRequest(), deadline: deadline, cancellationToken: ct)).Corpora;
            _models = models;
            _corpora = corpora;
            var device = info.Device.Split(" · ")[0] + PrecisionNote(info.GenerationPrecision);
            var whole = $"{device} · {info.ActiveSessions} session(s) · jobs: {info.RunningJobs} running, {info.QueuedJobs} queued";
            string[] shorter = [whole, $"{device} · jobs: {info.RunningJobs} running, {info.QueuedJobs} queued", $"connected · {device}", .. ShortestConnected(info.GenerationPrecision)];
            Record(true, false, "", Usage(info) is { } usage ? [$"{whole} · {usage}", $"{device} · {usage}", .. shorter] : shorter);
            completion.Update(new CompletionSource.Snapshot(
                _architectures.Architectures.Select(a => a.Name).ToArray(),
                _architectures.Architectures.ToDictionary(a => a.Name, a => a.Hyperparameters.Select(h => h.Name).ToArray()),
                models.Where(m => m.Error.Length == 0).Select(m => m.Name).ToArray(),
                jobs.Select(j => j.Id).Concat(jobs.Select(j => j.ModelName)).Distinct().ToArray(), // stop and attach take either
                corpora.Select(c => c.Name).ToArray(),
                _architectures.Optimizers.ToArray(),
                _architectures.TrainingOptions.Concat(_architectures.Architectures.SelectMany(a => a.Hyperparameters))
                    .Where(o => o.Type == HyperParameterSpec.Types.Type.Bool).Select(o => o.Name).Distinct().ToArray()));
        }
        catch (RpcException e) when (!ct.IsCancellationRequested && e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
        {
            // Retrying will not help: the key is missing, unknown or not allowed. The server's words: a key missing, unknown, or a server with none yet.
            Record(false, true, ErrorText.Describe(e), $"refused ({e.StatusCode}): {e.Status.Detail}", $"refused ({e.StatusCode})", "refused");
        }
        catch (RpcException e) when (!ct.IsCancellationRequested)
        {
            var problem = await LinkFailure.WithTlsAdviceAsync(client, e, ct) ?? ErrorText.Describe(e);
            Record(false, false, problem, $"disconnected ({e.StatusCode}); retrying…", "disconnected; retrying…", "disconnected");
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            return; // closing: a poll in flight ends cancelled
        }
        Interlocked.Increment(ref _version);
    }

    /// <summary>What the device generates in, after its name, where it is not float32 (" · bf16"); nothing from a server older than the field.</summary>
    private static string PrecisionNote(string precision) => precision is "" or "float32" ? "" : $" · {precision}";

    /// <summary>
    /// The shortest forms of a connected server's words. A server that generates in bf16 keeps saying so in fewer columns than
    /// "connected" takes beside it: "bf16" alone still means connected (a server that does not answer says so), and at 80 columns,
    /// where the keys leave 12, "connected · bf16" did not fit and the precision was the first thing dropped.
    /// </summary>
    private static string[] ShortestConnected(string precision) => PrecisionNote(precision) is "" ? ["connected"] : [$"connected{PrecisionNote(precision)}", precision];

    /// <summary>
    /// What the key_usage of GetServerInfo says, as few words as `status` prints it in lines: the caller's own key (one
    /// entry) against each quota, or an admin's every key in one list with the quotas once. Null when there is none
    /// to show (an anonymous caller, a server older than key_usage), or none worth the room: a server without keys
    /// has one row, "local", every client's, and the embedded server's one user would read its own quotas as noise.
    /// The models and uploaded corpora a key owns are shown where the server has those quotas (an older one reports 0 for both).
    /// </summary>
    internal static string? Usage(ServerInfo info)
    {
        if (info.KeyUsage.Count == 0 || info.KeyUsage is [{ Key: CharRnnClient.OpenServerOwner }] || info.Limits is not { } l) return null;
        var quotas = new List<(string Name, long Limit, Func<KeyUsage, long> Used)>
        {
            ("sessions", l.MaxSessionsPerKey, u => u.Sessions),
            ("jobs", l.MaxJobsPerKey, u => u.Jobs),
        };
        if (l.MaxModelsPerKey > 0) quotas.Add(("models", l.MaxModelsPerKey, u => u.Models));
        if (l.MaxCorporaPerKey > 0) quotas.Add(("corpora", l.MaxCorporaPerKey, u => u.Corpora));
        quotas.Add(("chars a minute", l.MaxCharsPerMinutePerKey, u => u.CharsLastMinute));
        if (info.KeyUsage is [var own])
            return $"key {own.Key}: " + string.Join(", ", quotas.Select(q => $"{q.Used(own):N0}/{q.Limit:N0} {q.Name}"));
        return $"keys' {string.Join("/", quotas.Select(q => q.Name))} of {string.Join("/", quotas.Select(q => q.Limit.ToString("N0")))}: " +
               string.Join(", ", info.KeyUsage.Select(u => $"{u.Key} {string.Join("/", quotas.Select(q => q.Used(u).ToString("N0")))}"));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
