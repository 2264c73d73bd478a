using System.Diagnostics;
using CharRnn.Protos.V1;

namespace CharRnn.Bench;

/// <summary>Training and generation together for a while, sampling memory every few seconds: both must stay flat.</summary>
public static class Soak
{
    public sealed record Sample(TimeSpan Elapsed, long RssBytes, long LiveTensors, long Characters);

    public static async Task<List<Sample>> Run(ServerBench server, TimeSpan length)
    {
        var job = await server.StartTraining();
        var clock = Stopwatch.StartNew();
        long characters = 0;
        using var stop = new CancellationTokenSource(length);
        var clients = Enumerable.Range(0, 8).Select(async i =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Sessions come and go: open, generate, close, as real clients do.
                var session = await server.Open((ulong)i);
                using var call = server.Generation.Generate(new GenerateRequest { SessionId = session.Id, MaxChars = 300 });
                while (await call.ResponseStream.MoveNext(CancellationToken.None)) Interlocked.Increment(ref characters);
                await server.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
            }
        }).ToList();
        var samples = new List<Sample>();
        var period = TimeSpan.FromSeconds(Math.Max(5, length.TotalSeconds / 40));
        while (!stop.IsCancellationRequested)
        {
            var process = Process.GetCurrentProcess();
            process.Refresh();
            samples.Add(new Sample(clock.Elapsed, process.WorkingSet64, await server.LiveTensors(), Interlocked.Read(ref characters)));
            Console.WriteLine($"  soak {clock.Elapsed:mm\\:ss}: RSS {process.WorkingSet64 / 1048576} MiB, live tensors {samples[^1].LiveTensors}, {samples[^1].Characters:N0} chars");
            try { await Task.Delay(period, stop.Token); } catch (TaskCanceledException) { }
        }
        await Task.WhenAll(clients);
        await server.StopTraining(job);
        return samples;
    }
}
