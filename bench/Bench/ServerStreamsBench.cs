using System.Globalization;

namespace CharRnn.Bench;

/// <summary>
/// Streams through the server in rounds: each round measures 1, 8, 64 and 256 idle streams, each
/// followed by the engine's own batched rate for as many sessions
/// (<see cref="ServerBench.EngineCharsPerSecond"/>), 256 streams again from clients in a process of
/// their own (<see cref="StreamClientProcess"/>) and 256 asking for <see cref="GatheredChars"/> chars
/// per message, then
/// starts a training job (the GRU on Nietzsche), measures its steps alone, and 1 and 64 streams
/// while it trains at each training slice asked for. Rounds interleave idle and training runs,
/// so the p99 ratio, and the streams' rate against the engine's, are taken round by round, not
/// between a fast and a slow state of the host.
/// </summary>
public static class ServerStreamsBench
{
    private const int GatheredChars = 16;
    /// <summary>An idle row: its streams, the chars each message carries, and whether the clients run in a process of their own.</summary>
    private sealed record IdleRow(int Streams, int CharsPerMessage = 1, bool ClientProcess = false);
    private static readonly IdleRow[] IdleRows = [new(1), new(8), new(64), new(256), new(256, ClientProcess: true), new(256, GatheredChars)];
    private static readonly int[] TrainingStreams = [1, 64];

    /// <summary>One stream gets this many chars per run, so its p99 is the 10th-longest gap, not the 4th.</summary>
    private const int CharsAlone = 1000, CharsEach = 200;

    private const double EngineSeconds = 2;

    public static async Task Run(ServerBench server, int rounds, IReadOnlyList<double> slicesMs, Report report)
    {
        var shipped = server.TrainingSliceMilliseconds;
        var idle = new Dictionary<IdleRow, List<ServerBench.StreamResult>>();
        var training = new Dictionary<(double Slice, int Streams), List<ServerBench.StreamResult>>();
        var alone = new List<double>();
        var engine = new Dictionary<int, List<double>>(); // the engine's batched rate beside the streams, round by round
        await using var clientProcess = await StreamClientProcess.StartAsync(server.Address);
        for (int round = 0; round < rounds; round++)
        {
            foreach (var row in IdleRows)
            {
                Add(idle, row, await Measure(server, row.Streams, Idle(row), row.CharsPerMessage, row.ClientProcess ? clientProcess : null));
                if (row is { CharsPerMessage: 1, ClientProcess: false }) Add(engine, row.Streams, await server.EngineCharsPerSecond(row.Streams, EngineSeconds));
            }
            var job = await server.StartTraining();
            alone.Add(await server.TrainingStepsPerSecondAlone(TimeSpan.FromSeconds(1.5)));
            foreach (var slice in slicesMs)
            {
                server.UseTrainingSlice(slice);
                foreach (var streams in TrainingStreams)
                    Add(training, (slice, streams), await Measure(server, streams, $"training, slice {slice} ms"));
            }
            server.UseTrainingSlice(shipped);
            await server.StopTraining(job);
        }

        var aloneSteps = new Stats(alone);
        var rows = new List<string[]>();
        foreach (var (row, runs) in idle) rows.Add(Row(Idle(row), row.Streams, runs, trains: false, aloneSteps.Median));
        foreach (var ((slice, streams), runs) in training) rows.Add(Row($"training, slice {slice.ToString(CultureInfo.InvariantCulture)} ms", streams, runs, trains: true, aloneSteps.Median));
        report.Table(["device", "streams", "chars/s (all streams)", "p50 inter-char ms", "p99 inter-char ms", "server's mean generation step ms",
            "training steps/s (share of alone)", "mean training slice ms", "errors"], rows);
        report.Paragraph($"Medians over {rounds} round(s), min–max in brackets. One stream asks for {CharsAlone} chars per run, each of more streams for {CharsEach}. " +
            $"The job trains {Stats.N(aloneSteps.Median)} steps/s alone ({aloneSteps.Format(decimals: 0)}). The server's mean generation step and the mean training slice " +
            "come from its own metrics (charrnn_generation_step_seconds, charrnn_training_slice_seconds) over the same runs: inside the device loop, without the network. " +
            $"The server ships with a {shipped.ToString(CultureInfo.InvariantCulture)} ms slice (`charrnn serve --training-slice-ms`). " +
            $"The row of {GatheredChars} chars a message asks for them with GenerateRequest.chars_per_message (a client that reads text in bulk): " +
            "its p50 and p99 are gaps between messages, not chars. The row of clients in their own process runs the same clients in a second process " +
            "(`charrnn-bench --stream-client`), as remote clients would be: their gRPC work then has its own thread pool and garbage collector, and shares only the two cores with the server.");

        report.Table(["streams", "clients", "chars a message", "streams' chars/s", "engine's chars/s, same sessions on the server's device thread", "engine / streams, per round", "target"],
            idle.Select(kv => new[]
            {
                kv.Key.Streams.ToString(CultureInfo.InvariantCulture), kv.Key.ClientProcess ? "own process" : "server's process", kv.Key.CharsPerMessage.ToString(CultureInfo.InvariantCulture),
                new Stats(kv.Value.Select(r => r.CharsPerSecond)).Format(), new Stats(engine[kv.Key.Streams]).Format(),
                new Stats(kv.Value.Select((r, i) => engine[kv.Key.Streams][i] / r.CharsPerSecond)).Format("×", 2) + NoChars(kv.Value),
                kv.Key.Streams == 256 ? "≤ 1.5×"
                    // Chars can reach the client in bursts (a 0.3 ms step outruns the stream's delivery), which makes the p50 gap
                    // near zero: the mean gap, 1 / chars/s, is the per-char latency the target compares, and at one stream the
                    // engine / streams ratio beside this column is exactly that gap over the engine's step.
                    : kv.Key.Streams == 1 ? "per-char latency: the engine / streams ratio (mean gap over the engine's step, ≤ 1.3×); " +
                        $"p50 gap {new Stats(kv.Value.Select((r, i) => r.InterCharSeconds.Median * engine[1][i])).Format("×", 2)}" : "-",
            }));
        report.Paragraph($"The engine's rate is taken in the same round, right after the streams: as many sessions of the server's own model, stepped together for {EngineSeconds} s " +
            "on the server's device thread with nothing else running. The streams share the two cores with every message's gRPC work, on the server's side and the clients'.");

        report.Table(["training slice", "streams", "p99 while training / p99 idle, per round", "target"],
            training.Select(kv => new[]
            {
                $"{kv.Key.Slice.ToString(CultureInfo.InvariantCulture)} ms", kv.Key.Streams.ToString(CultureInfo.InvariantCulture),
                new Stats(kv.Value.Select((r, i) => P99(r) / P99(idle[new IdleRow(kv.Key.Streams)][i]))).Format("×", 2), "≤ 5×",
            }));
    }

    /// <summary>Rounds whose streams delivered nothing have no ratio: said, not left out of the median unseen.</summary>
    private static string NoChars(IEnumerable<ServerBench.StreamResult> rounds) =>
        rounds.Count(r => !(r.CharsPerSecond > 0)) is var none and > 0 ? $", and {none} round(s) with no chars: missed" : "";

    private static string Idle(IdleRow row) => row switch
    {
        { ClientProcess: true } => "idle, clients in their own process",
        { CharsPerMessage: > 1 } => $"idle, {row.CharsPerMessage} chars a message",
        _ => "idle",
    };

    private static async Task<ServerBench.StreamResult> Measure(ServerBench server, int streams, string device, int charsPerMessage = 1, StreamClientProcess? clientProcess = null)
    {
        var r = await server.Streams(streams, streams == 1 ? CharsAlone : CharsEach, charsPerMessage, clientProcess);
        Console.WriteLine($"  server {device} × {streams}: {r.CharsPerSecond:N0} c/s, p50 {r.InterCharSeconds.Median * 1e3:F2} ms, p99 {P99(r) * 1e3:F2} ms, " +
            $"server step {r.ServerStepSeconds * 1e3:F2} ms, training {r.TrainingStepsPerSecond:N0} steps/s, errors {r.Errors}" + (r.FirstError is { } e ? $" (first: {e})" : ""));
        return r;
    }

    private static double P99(ServerBench.StreamResult r) => r.InterCharSeconds.Quantile(0.99);

    private static void Add<TKey, TValue>(Dictionary<TKey, List<TValue>> runs, TKey key, TValue result) where TKey : notnull
    {
        if (!runs.TryGetValue(key, out var list)) runs[key] = list = [];
        list.Add(result);
    }

    private static string[] Row(string device, int streams, List<ServerBench.StreamResult> runs, bool trains, double aloneSteps)
    {
        var trainingSteps = new Stats(runs.Select(r => r.TrainingStepsPerSecond));
        return
        [
            device, streams.ToString(CultureInfo.InvariantCulture),
            new Stats(runs.Select(r => r.CharsPerSecond)).Format(),
            Stats.N(new Stats(runs.Select(r => r.InterCharSeconds.Median * 1e3)).Median, 2),
            new Stats(runs.Select(r => P99(r) * 1e3)).Format(decimals: 2),
            Stats.N(new Stats(runs.Select(r => r.ServerStepSeconds * 1e3)).Median, 2),
            trains ? $"{Stats.N(trainingSteps.Median)} ({trainingSteps.Median / aloneSteps:P0})" : "-",
            trains ? Stats.N(new Stats(runs.Select(r => r.MeanSliceSeconds * 1e3)).Median, 2) : "-",
            runs.Sum(r => r.Errors).ToString(CultureInfo.InvariantCulture) + (runs.Select(r => r.FirstError).FirstOrDefault(e => e != null) is { } first ? $" (first: {first})" : ""),
        ];
    }
}
