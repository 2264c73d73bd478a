using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CharRnn.Bench;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Text;
using static TorchSharp.torch;

// make bench [BENCH_ARGS="--quick"]: measures and writes bench/results.md. See bench/README.md.
MallocSettings.ReexecuteIfNeeded(); // as the product runs (and PyTorch, a child process, inherits it)
var runs = new Option<int>("--runs") { Description = "Repetitions of each figure (after warm-up).", DefaultValueFactory = _ => 5 };
var seconds = new Option<double>("--seconds") { Description = "Seconds each timed run lasts.", DefaultValueFactory = _ => 3 };
var threadsOption = new Option<string>("--threads") { Description = "Thread counts to measure, e.g. 1,2.", DefaultValueFactory = _ => "1,2" };
var quick = new Option<bool>("--quick") { Description = "Fewer, shorter runs at 2 threads unless --threads is given (a smoke run, not for quoting)." };
var only = new Option<string>("--only") { Description = "Sections: gemm,malloc,training,generation,packed,invariance,epoch-end,pieces,server,soak,quality,start-window.", DefaultValueFactory = _ => "gemm,malloc,training,generation,packed,invariance,epoch-end,pieces,server" };
var soak = new Option<string>("--soak") { Description = "Length of the train-and-generate memory soak (e.g. 10m).", DefaultValueFactory = _ => "10m" };
var startWindowBudget = new Option<string>("--start-window-budget") { Description = "Training time of each windowed model the start-window section compares (e.g. 100s).", DefaultValueFactory = _ => "100s" };
var qualityBudget = new Option<string>("--quality-budget") { Description = "Training time for the quality-per-time curve (e.g. 30m).", DefaultValueFactory = _ => "30m" };
var qualityBptt = new Option<int>("--quality-bptt") { Description = "bptt for the quality run.", DefaultValueFactory = _ => 32 };
var qualityDropout = new Option<double>("--quality-dropout") { Description = "LSTM dropout for the quality run (the lesson's 0.5 suits 60+ epochs, not 30 minutes).", DefaultValueFactory = _ => 0.3 };
var bf16Training = new Option<string>("--bf16-quality-training") { Description = "Training time of the lesson's LSTM whose held-out nats/char the generation section compares in float32 and bf16 (e.g. 120s; 0s: no comparison).", DefaultValueFactory = _ => "120s" };
var serverSlices = new Option<string>("--server-slices") { Description = "Training slices (ms) the server section compares while a job trains, e.g. 5,1.", DefaultValueFactory = _ => "2,5,1" };
var mallocProbe = new Option<bool>(MallocBench.ProbeOption) { Description = "Print one allocation and nn.LSTM measurement and exit (the malloc section's child processes).", Hidden = true };
var serverProcess = new Option<bool>("--server-process") { Description = "Run the server sections in this process (set for the child process that runs them).", Hidden = true };
var streamClient = new Option<string?>(StreamClientProcess.Option) { Description = "Run the server section's stream clients against this address (its child process of clients).", Hidden = true };
var models = new Option<string>("--models") { Description = "Models in the training section: rnn,gru,lstm.", DefaultValueFactory = _ => "rnn,gru,lstm" };
var deviceOption = new Option<string>("--device") { Description = "cpu, cuda or auto.", DefaultValueFactory = _ => "cpu" };
var python = new Option<string>("--python") { Description = "The Python whose PyTorch is the reference (Debian's python3-torch on the CPU; a GPU host's own, with CUDA, for --device cuda).", DefaultValueFactory = _ => "/usr/bin/python3" };
var output = new Option<string>("--out") { Description = "Results file.", DefaultValueFactory = _ => "bench/results.md" };

string[] ServerSections = ["server", "soak"];

var root = new RootCommand("CharRnn benchmarks: the engine, the server and PyTorch side by side.")
{
    runs, seconds, threadsOption, quick, only, soak, qualityBudget, startWindowBudget, qualityBptt, qualityDropout, bf16Training, serverSlices, serverProcess, mallocProbe, streamClient, models, deviceOption, python, output,
};
root.SetAction(async parse =>
{
    if (parse.GetValue(streamClient) is { } clientOf) return await StreamClientProcess.Serve(clientOf);
    var isQuick = parse.GetValue(quick);
    int runCount = isQuick ? 2 : parse.GetValue(runs);
    double runSeconds = isQuick ? 1.5 : parse.GetValue(seconds);
    var threadsGiven = parse.GetResult(threadsOption) is { Implicit: false }; // --quick measures 2 threads unless told otherwise
    var threadCounts = (isQuick && !threadsGiven ? "2" : parse.GetValue(threadsOption)!).Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
    var sections = parse.GetValue(only)!.Split(',', StringSplitOptions.TrimEntries).ToHashSet();
    var trainingArchs = parse.GetValue(models)!.Split(',', StringSplitOptions.TrimEntries);
    if (trainingArchs.Except(TrainingBench.Archs).ToList() is [_, ..] unknown)
    {
        Console.Error.WriteLine($"--models: unknown {string.Join(", ", unknown)}; allowed: {string.Join(", ", TrainingBench.Archs)}.");
        return 2;
    }
    BenchDevice.Device = TorchRuntime.Initialize(parse.GetValue(deviceOption)!, threadCounts.Max());
    if (parse.GetValue(mallocProbe))
    {
        Console.WriteLine(MallocBench.Probe());
        return 0;
    }
    BenchDevice.Name = BenchDevice.Device.ToString();
    var corpus = new CorpusResolver().Resolve(null);
    var repository = FindRepository();
    // The reference runs on the engine's device type: a CPU-only PyTorch cannot stand in for a GPU one (it fails the probe, and the header says why).
    var pytorch = new PyTorchReference(Path.Combine(repository, "bench", "pytorch_reference.py"), Path.Combine(new CorpusResolver().CacheDirectory, "nietzsche.txt"),
        parse.GetValue(python)!, BenchDevice.Device.type == TorchSharp.DeviceType.CUDA ? "cuda" : "cpu");
    var hasPyTorch = pytorch.Available();
    var report = new Report();

    report.Line("# CharRnn benchmark results");
    report.Paragraph($"Written by `make bench` ({string.Join(" ", Environment.GetCommandLineArgs().Skip(1))}) on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
    report.Table(["", ""],
    [
        ["machine", $"{Environment.ProcessorCount} vCPU(s) · {RuntimeInformation.OSDescription} · {CpuModel()}"],
        [".NET", RuntimeInformation.FrameworkDescription],
        ["engine", $"TorchSharp 0.107.0 · {LoadedLibTorch.Describe()} · device {BenchDevice.Name}"],
        ["MKL vendor check", MklVendorCheck.Status],
        ["malloc", MallocSettings.Status],
        ["reference", hasPyTorch ? pytorch.Describe() : $"PyTorch not measured: {pytorch.Problem}"],
        ["runs", $"{runCount} per figure after warm-up, {runSeconds} s each; engine and PyTorch interleaved run by run; figures are median (min–max)"],
    ]);

    var peaks = new Dictionary<int, Stats>();
    if (sections.Contains("gemm") || sections.Contains("training"))
    {
        report.Heading($"Machine limit: float32 GEMM ({GemmPeak.Size}×{GemmPeak.Size})");
        foreach (var t in threadCounts) peaks[t] = GemmPeak.Measure(t, runCount);
        // The vendor check is lifted once per process and for good: MKL as shipped is measured in a child process.
        var shipped = MklVendorCheck.Lifted && BenchDevice.Device.type == TorchSharp.DeviceType.CPU ? GemmPeak.MeasureAsShipped(threadCounts, runCount) : null;
        report.Table(shipped == null ? ["threads", "GFLOP/s"] : ["threads", "GFLOP/s", "MKL as shipped (vendor check kept)", "lifted / as shipped"],
            threadCounts.Select(t => shipped == null
                ? new[] { t.ToString(CultureInfo.InvariantCulture), peaks[t].Format("", 1) }
                : [t.ToString(CultureInfo.InvariantCulture), peaks[t].Format("", 1), shipped.TryGetValue(t, out var s) ? s.Text : "-",
                   Report.Ratio(peaks[t].Median, shipped.TryGetValue(t, out var m) ? m.Median : double.NaN)]));
    }

    if (sections.Contains("malloc"))
    {
        var threads = threadCounts.Max();
        report.Heading($"Memory allocation: glibc malloc as the product runs it and as shipped ({threads} thread(s))");
        report.Paragraph($"The product re-executes itself with glibc malloc on transparent huge pages and fixed thresholds (`GLIBC_TUNABLES={MallocSettings.Tunables}`; `MallocSettings`, README Troubleshooting): " +
            "glibc serves every large block from a fresh mmap and unmaps it on free, so each training step faults its pages in again, and a 4 KB page fault is costly on this machine; with huge pages they fault in 2 MB at a time, " +
            "and blocks under 32 MB stay on the heap. " +
            $"Child processes of this program, tuned and as shipped in turn, {runCount} each; each measures a 64 MB tensor's allocation and first write (median of 10) and nn.LSTM's forward and backward at bs 64, bptt 64 for 3 s. " +
            "Every other section runs with the product's settings; the PyTorch reference, a child process, inherits them.");
        var (tuned, shipped) = MallocBench.Run(threads, runCount);
        report.Table(["figure", "malloc on huge pages (the product)", "malloc as shipped", "huge pages / as shipped"],
        [
            ["64 MB tensor, allocate and write once (ms)", tuned.AllocationMs.Format("", 2), shipped.AllocationMs.Format("", 2), Report.Ratio(tuned.AllocationMs.Median, shipped.AllocationMs.Median)],
            ["nn.LSTM forward and backward, bs 64, bptt 64 (chars/s)", tuned.LstmCharsPerSecond.Format(), shipped.LstmCharsPerSecond.Format(), Report.Ratio(tuned.LstmCharsPerSecond.Median, shipped.LstmCharsPerSecond.Median)],
        ]);
    }

    if (sections.Contains("training"))
    {
        report.Heading("Training throughput (chars/s, bs 64)");
        report.Paragraph("product: the Trainer the CLI and server use, batch by batch through its own step · bare: a hand-written TorchSharp loop of the same model (embedding → nn.RNN/GRU/LSTM → linear, Adam, detach) · PyTorch: the same model and step in the reference named above. " +
            "The product's epoch ends (a validation pass over the held-out fifth of the text) run off its clock: the other two do no evaluation; the last column says in how many runs one fell and its share of that run's wall time (until 2026-12-02 14:40 they were on the clock, and the small models' product/bare lost 6–8% in each run an epoch ended in). Targets: product ≥ 0.95× bare; LSTM ≥ 1.3× PyTorch; GRU and RNN ≥ 1.0× PyTorch.");
        var training = new TrainingBench(corpus, hasPyTorch ? pytorch : null, runCount, runSeconds).Run([8, 64], threadCounts, trainingArchs);
        report.Table(["model", "bptt", "threads", "product", "bare", "PyTorch", "product/bare", "product/PyTorch", "product/bare, run by run", "product/PyTorch, run by run", "% of GEMM peak", "product's epoch ends (off its clock)"],
            training.Select(r => new[]
            {
                "stateful-" + r.Arch, r.Bptt.ToString(CultureInfo.InvariantCulture), r.Threads.ToString(CultureInfo.InvariantCulture),
                r.Product.Format(), r.Bare.Format(), r.PyTorch.Format(),
                Report.Ratio(r.Product.Median, r.Bare.Median), Report.Ratio(r.Product.Median, r.PyTorch.Median),
                r.ProductOverBare.Format("×", 2), r.ProductOverPyTorch.Format("×", 2),
                Percent(r.PeakFraction.Median), EpochEnds(r.EpochEndShare),
            }));
        report.Paragraph("The run-by-run columns divide each run's rates (the three of a run follow each other within seconds; runs take the six orders of the three in turn) and give the median of those ratios with their range: the host's fast and slow phases, which move whole runs, cancel there.");
        report.Paragraph("% of GEMM peak: each run's product rate × matrix-product FLOPs per char over the mean of two 1 s GEMM measurements, one right before the product's timed window and one right after it (median of the runs' ratios). " +
            "nn.LSTM alone: a two-layer nn.LSTM's forward and backward with nothing else (no embedding, output layer, loss or optimizer). The product's step adds those, but runs its layers as one-layer nn.LSTMs with a cheaper dropout between them than nn.LSTM's serial bernoulli_, so it can pass this rate:");
        report.Table(["model", "bptt", "threads", "product step, % of peak", "nn.LSTM alone, % of peak"],
            training.Where(r => r.LstmAloneFraction.Values.Count > 0).Select(r => new[]
            {
                "stateful-" + r.Arch, r.Bptt.ToString(CultureInfo.InvariantCulture), r.Threads.ToString(CultureInfo.InvariantCulture),
                $"{Percent(r.PeakFraction.Median)} ({Percent(r.PeakFraction.Min)}–{Percent(r.PeakFraction.Max)})",
                $"{Percent(r.LstmAloneFraction.Median)} ({Percent(r.LstmAloneFraction.Min)}–{Percent(r.LstmAloneFraction.Max)})",
            }));
        report.Paragraph("Best window (the fastest run of each), as the 2-vCPU host flips between a fast and a slow state:");
        report.Table(["model", "bptt", "threads", "product max", "bare max", "PyTorch max", "product/PyTorch (max)"],
            training.Select(r => new[]
            {
                "stateful-" + r.Arch, r.Bptt.ToString(CultureInfo.InvariantCulture), r.Threads.ToString(CultureInfo.InvariantCulture),
                Stats.N(r.Product.Max), Stats.N(r.Bare.Max), Stats.N(r.PyTorch.Max), Report.Ratio(r.Product.Max, r.PyTorch.Max),
            }));
    }

    if (sections.Contains("generation"))
    {
        var threads = threadCounts.Max();
        report.Heading($"Engine generation ({threads} thread(s), temperature 0.8)");
        report.Paragraph("One batched model step advances every session by one character (host-side sampling per session). Each step runs on the thread count the server's tuner picks for its model and batch size (it times its first steps on 1, 2, 4, … threads up to the maximum, keeps the fastest and probes the others now and then; the column says which count most steps took) for its elementwise work, while the LSTM's MKL-packed matrix products run on all threads whatever that count (as the server runs them); PyTorch on all of them (its batch of one is slower on one). Targets: 1 session ≤ 1.0× PyTorch's per-char latency; 64 sessions ≥ 20× the chars/s of one.");
        var generation = new GenerationBench(corpus, hasPyTorch ? pytorch : null, runCount, runSeconds).Run(["lstm", "gru"], [1, 8, 64, 256], threads);
        report.Table(["model", "precision", "sessions", "libtorch threads", "ms per step", "chars/s", "× one session, run by run", "PyTorch ms per step", "PyTorch chars/s", "engine/PyTorch latency, run by run"],
            generation.Select(r => new[]
            {
                "stateful-" + r.Arch, GenerationPrecisions.Name(r.Precision), r.Sessions.ToString(CultureInfo.InvariantCulture), r.StepThreads, Stats.N(r.StepSeconds.Median * 1e3, 3), r.CharsPerSecond.Format(),
                r.Sessions == 1 ? "1.00×" : r.TimesOne.Format("×", 2), r.PyTorchStepSeconds.Values.Count > 0 ? Stats.N(r.PyTorchStepSeconds.Median * 1e3, 3) : "-",
                r.PyTorchCharsPerSecond.Format(), r.LatencyVsPyTorch.Values.Count > 0 ? r.LatencyVsPyTorch.Format("×", 2) : "-",
            }));
        report.Paragraph("Each run measures the session counts one after another (1, 8, 64, 256; PyTorch right after the engine at 1 and 64), and the ratios are taken within a run, " +
            "then their median (min–max): the host's phases move whole runs, and a ratio of two medians taken minutes apart would mix them.");
        if (GenerationPrecisions.WhyUnavailable(GenerationPrecision.BFloat16, BenchDevice.Device.type) is { } noBf16)
            report.Paragraph($"No bf16 rows: {noBf16}.");
        else
        {
            report.Paragraph("bf16 rows: a copy of the same LSTM prepared with `--generation-precision bf16` (its recurrent and second-layer input weights, and each step's rows, " +
                "rounded to bfloat16; MKL's cblas_gemm_bf16bf16f32 sums in float32), measured right after the float32 copy at each count, its × one session against its own one session.");
            var bf16Budget = ParseDuration(parse.GetValue(bf16Training)!);
            if (bf16Budget > TimeSpan.Zero)
            {
                var quality = Bf16QualityBench.Run(corpus, isQuick ? TimeSpan.FromSeconds(10) : bf16Budget, isQuick ? 2_000 : 20_000, threads);
                report.Paragraph($"What bf16 costs in quality: the lesson's stateful-lstm (n_fac 42, 512 × 2, bs 64, its default lr and bptt) trained for {quality.Steps} steps " +
                    $"({quality.TrainedSeconds:F0} s, lowercased Nietzsche), then {quality.Chars:N0} chars from the start of the held-out last 20% fed to it as a prime and scored:");
                report.Table(["precision", "nats/char", "bf16 − float32"],
                [
                    ["float32", quality.Float32NatsPerChar.ToString("F5", CultureInfo.InvariantCulture), "-"],
                    ["bf16", quality.Bf16NatsPerChar.ToString("F5", CultureInfo.InvariantCulture), (quality.Bf16NatsPerChar - quality.Float32NatsPerChar).ToString("+0.00000;-0.00000;0.00000", CultureInfo.InvariantCulture)],
                ]);
            }
        }
    }

    if (sections.Contains("packed"))
    {
        var threads = threadCounts.Max();
        int rounds = isQuick ? 2 : Math.Max(runCount, 5);
        report.Heading($"LSTM generation with and without packed weights ({threads} thread(s))");
        report.Paragraph("Two copies of one stateful-lstm (512×2, the same weights): one prepared to generate as a loaded model is (MKL-packed recurrent and " +
            $"inner-layer weights, products on all {threads} threads), one not (products on libtorch's count, and, since 2026-12-04, also on all threads: " +
            "its best of both, so the speed-up is the packing's and not the thread split's). Whole batched steps, sampling included, on each of " +
            "libtorch's thread counts, the configurations alternating round by round; each round compares the best of each side. Batches of 128 or more step " +
            "unpacked on both sides.");
        var results = PackedWeightsBench.Run(corpus, [1, 8, 64, 256], threads, rounds, runSeconds * 2);
        report.Table(["sessions", "unpacked ms a step", "packed ms a step", "speed-up, round by round"], results.Select(r => new[]
        {
            r.Sessions.ToString(CultureInfo.InvariantCulture), r.Unpacked.Format("", 3), r.Packed.Format("", 3), r.Speedup.Format("×", 2),
        }));
        report.Paragraph($"What a new batch size costs: a weight is packed per row count, once that count was used by {MklPackedWeight.SightingsToPack} " +
            $"of its last {MklPackedWeight.RecentCalls} products. " +
            "The product that packs (MKL's pack of the LSTM's 2048 × 512 recurrent weight, and the copy's check against torch's product), " +
            "against a product through the copy once made:");
        var costs = PackedWeightsBench.Costs([1, 8, 64, 256], threads, rounds);
        report.Table(["rows", "the product that packs, ms", "a packed product, ms", "products that cost"], costs.Select(c => new[]
        {
            c.Rows.ToString(CultureInfo.InvariantCulture), c.Packing.Format("", 2), c.Product.Format("", 3),
            (c.Packing.Median / c.Product.Median).ToString("F0", CultureInfo.InvariantCulture),
        }));
    }

    if (sections.Contains("invariance"))
    {
        var invarianceThreads = threadCounts.Max();
        int sessions = isQuick ? 8 : 64, chars = isQuick ? 50 : 300;
        report.Heading($"Batch invariance: seeded sessions alone and batched ({invarianceThreads} thread(s), temperature 1.0)");
        report.Paragraph($"Each of {sessions} seeded sessions (a partly trained model, prime \"the \") generates {chars} chars alone, then again with all {sessions} stepped together. " +
            "Sampling is per row on the host; only float rounding in the batched products can flip a draw, after which the texts part. Greedy decoding is tested to be identical (32 sessions).");
        var results = new[] { ("lstm", 150), ("gru", 400) }.Select(a => BatchInvarianceBench.Run(corpus, a.Item1, sessions, chars, invarianceThreads, isQuick ? 10 : a.Item2)).ToList();
        report.Table(["model", "sessions", "chars each", "identical texts", "first difference at char", "largest logit difference (identical texts)"], results.Select(r => new[]
        {
            "stateful-" + r.Arch, r.Sessions.ToString(CultureInfo.InvariantCulture), r.Chars.ToString(CultureInfo.InvariantCulture),
            $"{r.Identical} of {r.Sessions}", r.FirstDifferences.Count == 0 ? "-" : string.Join(", ", r.FirstDifferences),
            r.MaxLogitDifference.ToString("G3", CultureInfo.InvariantCulture),
        }));
    }

    if (sections.Contains("epoch-end"))
    {
        var threads = threadCounts.Max();
        int chars = isQuick ? 30_000 : 150_000, epochRuns = Math.Min(runCount, 3);
        report.Heading($"How long training holds the device outside its steps ({threads} thread(s))");
        report.Paragraph($"The first epoch's end on a {chars / 1000}k-char slice of Nietzsche (default options, checkpoints written): each `StepPiece` call runs one unit " +
            "(a validation batch, 16 sample chars, the record, one checkpoint), and on the server every stream waits for the call in progress. " +
            $"Then one more save, timed on the device thread (taking the bytes) and in the background (hash, write, fsync). Medians of {epochRuns} run(s), min–max in brackets.");
        var results = new[] { "gru", "lstm" }.Select(a => EpochEndBench.Run(corpus, a, threads, epochRuns, chars)).ToList();
        report.Table(["model", "calls", "median call ms", "longest call ms", "save: device thread ms", "save: background ms"], results.Select(r => new[]
        {
            "stateful-" + r.Arch, r.Calls.ToString(CultureInfo.InvariantCulture), r.MedianCall.Format("", 1), r.LongestCall.Format("", 1),
            r.SaveOnDevice.Format("", 1), r.SaveInBackground.Format("", 1),
        }));
    }

    if (sections.Contains("pieces"))
    {
        var threads = threadCounts.Max();
        int rounds = isQuick ? 3 : 20;
        int[] pieceCounts = [4, 8, 16];
        report.Heading($"A training step in pieces, as the server runs it while anyone generates ({threads} thread(s), bs 64, bptt 8)");
        report.Paragraph("Stream models are cut in time: consecutive segments of the bptt window run forward, then backward from the last (⌈2p/3⌉ segments, 2 calls each, at most one segment per time step; then a call for the optimizer step). " +
            $"Each of {rounds} rounds times 4 whole steps and then 4 steps in each number of pieces on the same trainer: the pieces' total over that round's whole steps, the longest call (what a stream waits for) and the most calls a step took (bptt fixed at 8: the step's pieces, not the batcher's random lengths, set the calls). Medians, min–max in brackets.");
        var results = new[] { "rnn", "gru", "lstm" }.SelectMany(a => StepPiecesBench.Run(corpus, a, threads, pieceCounts, rounds)).ToList();
        report.Table(["model", "pieces asked", "most calls", "whole step ms", "pieces' total / whole step", "longest call ms"], results.Select(r => new[]
        {
            "stateful-" + r.Arch, r.Pieces.ToString(CultureInfo.InvariantCulture), r.Calls.ToString(CultureInfo.InvariantCulture), Stats.N(r.WholeMs.Median, 2),
            $"{r.TotalOverWhole.Median:F2}× ({r.TotalOverWhole.Min:F2}–{r.TotalOverWhole.Max:F2})", r.LongestCallMs.Format("", 2),
        }));
    }

    var serverSections = sections.Intersect(ServerSections).ToList();
    if (serverSections.Count > 0 && !parse.GetValue(serverProcess) && sections.Except(ServerSections).Except(["quality", "start-window"]).Any())
    {
        // This process's main thread has done Torch work: the server's device thread would be a second libgomp
        // thread team, and with more OpenMP threads than cores libgomp stops spinning between parallel regions
        // (measured: GRU training 38k against 64-90k chars/s). Users' servers do all Torch work on one thread.
        report.Line(await RunServerSectionsInChild(serverSections, args));
    }
    else if (serverSections.Count > 0)
    {
        var threads = threadCounts.Max();
        set_num_threads(threads);
        await using var server = await ServerBench.StartAsync(corpus, threads);
        if (sections.Contains("server"))
        {
            report.Heading($"Through the server over loopback gRPC (stateful-lstm 512×2, {threads} thread(s))");
            report.Paragraph("Targets: time to first character < 10 ms for a loaded model; per-char latency ≤ 1.3× the engine step; 256 streams with no errors within 1.5× of the engine's batched rate; while a job trains, p99 inter-char latency within 5× idle.");
            var firstChar = await server.TimeToFirstChar(runCount * 4);
            var fromNothing = await server.TimeToFirstChar(runCount * 4, newSession: true);
            static string Ms(Stats t) => $"{t.Median * 1e3:F2} ms median, p90 {t.Quantile(0.9) * 1e3:F2} ms (n={t.Values.Count})";
            report.Table(["figure", "value"], [["time to first character (Generate on an open session)", Ms(firstChar)],
                ["the same from OpenSession (a prime of 4 chars fed, then Generate)", Ms(fromNothing)]]);
            var slices = parse.GetValue(serverSlices)!.Split(',', StringSplitOptions.TrimEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
            await ServerStreamsBench.Run(server, runCount, slices, report);
        }
        if (sections.Contains("soak"))
        {
            var length = ParseDuration(isQuick ? "1m" : parse.GetValue(soak)!);
            report.Heading($"Memory soak: {length.TotalMinutes:0.#} minutes of training and generation");
            var samples = await Soak.Run(server, length);
            report.Table(["minute", "RSS MiB", "live tensors (device thread)", "chars generated"], samples.Select(s => new[]
            {
                (s.Elapsed.TotalMinutes).ToString("0.0", CultureInfo.InvariantCulture), Stats.N(s.RssBytes / 1048576.0), s.LiveTensors.ToString(CultureInfo.InvariantCulture), Stats.N(s.Characters),
            }));
            var settled = samples.Skip(samples.Count / 4).ToList();
            report.Paragraph($"After the first quarter RSS ranges {Stats.N(settled.Min(s => s.RssBytes) / 1048576.0)}–{Stats.N(settled.Max(s => s.RssBytes) / 1048576.0)} MiB and live tensors {settled.Min(s => s.LiveTensors)}–{settled.Max(s => s.LiveTensors)}.");
        }
    }

    if (sections.Contains("quality"))
    {
        var budget = ParseDuration(parse.GetValue(qualityBudget)!);
        var threads = threadCounts.Max();
        var hyperParameters = new Dictionary<string, double> { ["bptt"] = parse.GetValue(qualityBptt), ["dropout"] = parse.GetValue(qualityDropout) };
        var plan = QualityBench.PlanEpochs(corpus, budget, threads, hyperParameters);
        var settings = string.Join(", ", hyperParameters.Select(kv => $"{kv.Key} {kv.Value.ToString(CultureInfo.InvariantCulture)}"));
        Console.WriteLine($"  quality: {plan.Epochs} epoch(s) fit in {budget.TotalMinutes:0} min at {plan.CalibratedCharsPerSecond:N0} chars/s; schedule {plan.Schedule}");
        report.Heading($"Quality per time: stateful-lstm on lowercased Nietzsche, {threads} thread(s), {settings}");
        report.Paragraph($"Validation loss (nats/char, last 20% of the text) at each epoch end within a {budget.TotalMinutes:0} minute budget, " +
            $"the clock counting validation too. 512 hidden, 2 layers, bs 64, Adam 1e-2, wd 1e-5 (the lesson's model); one cosine cycle ({plan.Schedule}) " +
            $"over the {plan.Epochs} epochs a 70-step calibration at {plan.CalibratedCharsPerSecond:N0} chars/s says fit in the budget. " +
            "Target: ≤ 1.30 within 30 minutes (the lesson reached 1.2524 after 80 GPU epochs in all, the last 63 in one SGDR run).");
        var points = QualityBench.Run(corpus, budget, threads, hyperParameters, plan);
        report.Table(["epoch", "minutes", "learning rate", "validation loss"], points.Select(p => new[]
        {
            p.Epoch.ToString(CultureInfo.InvariantCulture), (p.Seconds / 60).ToString("0.0", CultureInfo.InvariantCulture),
            p.LearningRate.ToString("0.00000", CultureInfo.InvariantCulture), p.ValidLoss.ToString("0.0000", CultureInfo.InvariantCulture),
        }));
    }

    if (sections.Contains("start-window"))
    {
        // --quick trains each model 20 s unless a budget is given (a smoke run: the losses are not for quoting).
        var budget = isQuick && parse.GetResult(startWindowBudget) is null or { Implicit: true } ? TimeSpan.FromSeconds(20) : ParseDuration(parse.GetValue(startWindowBudget)!);
        var threads = threadCounts.Max();
        report.Heading($"How a windowed model's generation starts: padding or spaces before a short prime ({threads} thread(s))");
        report.Paragraph($"char3, loop and rnn at their defaults, each trained {budget.TotalSeconds:0} s on the corpus; then the loss (nats/char) of the char after " +
            "a prime of k chars at 4,000 random positions (primes that start a word, or anywhere), the rest of the window filled with padding or with spaces.");
        var rows = StartWindowBench.Run(corpus, budget, threads);
        var widest = rows.Max(r => r.LossAfter.Length);
        report.Table(["model (validation loss)", "prime starts", "filler", .. Enumerable.Range(1, widest).Select(k => $"k={k}")], rows.Select(r =>
            new[] { $"{r.Model} ({r.ValidLoss:F2})", r.PrimeStarts, r.Filler }
                .Concat(Enumerable.Range(0, widest).Select(k => k < r.LossAfter.Length ? r.LossAfter[k].ToString("F2", CultureInfo.InvariantCulture) : "")).ToArray()));
    }

    var path = Path.Combine(repository, parse.GetValue(output)!);
    report.Save(path);
    Console.WriteLine($"\nwrote {path}");
    return 0;
});
return await root.Parse(args).InvokeAsync();

// The server sections in a fresh process of this program with the same options; returns its report without its header.
static async Task<string> RunServerSectionsInChild(IReadOnlyList<string> sections, string[] args)
{
    var output = Path.Combine(Path.GetTempPath(), $"charrnn-bench-server-{Environment.ProcessId}.md");
    var childArgs = new List<string>();
    for (int i = 0; i < args.Length; i++)
    {
        if (args[i] is "--only" or "--out") { i++; continue; } // the child gets its own
        if (args[i].StartsWith("--only=", StringComparison.Ordinal) || args[i].StartsWith("--out=", StringComparison.Ordinal)) continue;
        childArgs.Add(args[i]);
    }
    childArgs.AddRange(["--only", string.Join(",", sections), "--out", output, "--server-process"]);
    // Through SelfLaunch: `make bench` runs `dotnet charrnn-bench.dll`, where the process itself is dotnet.
    var start = SelfLaunch.StartInfo([.. childArgs]);
    try
    {
        using (var child = Process.Start(start)!)
        {
            await child.WaitForExitAsync();
            if (child.ExitCode != 0) return $"\n## Server sections\n\nNot measured: the child process running them exited with code {child.ExitCode}.\n";
        }
        var text = File.ReadAllText(output);
        var sectionsStart = text.IndexOf("\n## ", StringComparison.Ordinal);
        return sectionsStart < 0 ? "" : text[sectionsStart..];
    }
    finally
    {
        File.Delete(output);
    }
}

static string FindRepository()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "CharRnn.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}

// "in 2 of 5 runs, 6.1–8.1% of the wall time": an epoch ends every few seconds for the small models, rarely within a run for the LSTM.
static string EpochEnds(Stats shares)
{
    var with = shares.Values.Where(v => v > 0).ToList();
    return with.Count == 0 ? $"none in {shares.Values.Count} runs"
        : FormattableString.Invariant($"in {with.Count} of {shares.Values.Count} runs, {with.Min():P1}–{with.Max():P1} of the wall time");
}

static string Percent(double fraction) => double.IsFinite(fraction) ? fraction.ToString("P0", CultureInfo.InvariantCulture) : "-";

static string CpuModel()
{
    try { return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"; }
    catch (IOException) { return "?"; }
}

static TimeSpan ParseDuration(string text)
{
    var unit = text[^1];
    var value = double.Parse(text[..^1], CultureInfo.InvariantCulture);
    return unit switch { 'h' => TimeSpan.FromHours(value), 'm' => TimeSpan.FromMinutes(value), 's' => TimeSpan.FromSeconds(value), _ => throw new ArgumentException($"'{text}': use e.g. 90s, 10m, 1h") };
}
