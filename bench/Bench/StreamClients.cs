using System.Diagnostics;
using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.Bench;

/// <summary>
/// The bench's clients of its server: sessions of the bench model streaming at once, every
/// stream's gaps between messages timed. They run in the server's own process, or in a process
/// of their own (<see cref="StreamClientProcess"/>) as remote clients would.
/// </summary>
public static class StreamClients
{
    public const string Model = "bench-lstm";

    /// <summary>All streams' chars in <paramref name="Seconds"/>, their gaps between messages, and the failed streams.</summary>
    public sealed record Result(long Chars, double Seconds, List<double> Gaps, int Errors, string? FirstError);

    public static async Task<Session> Open(Generation.GenerationClient client, ulong seed) => await client.OpenSessionAsync(new OpenSessionRequest
    {
        ModelName = Model,
        Prime = "the ",
        Sampling = new SamplingSettings { Temperature = 0.8, Seed = seed },
    });

    /// <summary>
    /// <paramref name="count"/> sessions stream <paramref name="chars"/> each at once (then close); <paramref name="started"/>
    /// runs once they are open, right before the clock starts, and <paramref name="finished"/> when it stops, before they close.
    /// </summary>
    public static async Task<Result> Run(Generation.GenerationClient client, int count, int chars, int charsPerMessage, Action? started = null, Action? finished = null)
    {
        var sessions = await Task.WhenAll(Enumerable.Range(0, count).Select(i => Open(client, (ulong)i)));
        var gaps = new List<double>[count];
        int errors = 0;
        string? firstError = null;
        started?.Invoke();
        var clock = Stopwatch.StartNew();
        var received = await Task.WhenAll(sessions.Select(async (s, i) =>
        {
            gaps[i] = new List<double>(chars);
            try
            {
                using var call = client.Generate(new GenerateRequest { SessionId = s.Id, MaxChars = chars, CharsPerMessage = charsPerMessage });
                var last = Stopwatch.GetTimestamp();
                int n = 0;
                while (await call.ResponseStream.MoveNext(CancellationToken.None))
                {
                    var now = Stopwatch.GetTimestamp();
                    if (n > 0) gaps[i].Add(Stopwatch.GetElapsedTime(last, now).TotalSeconds);
                    last = now;
                    n += call.ResponseStream.Current.Text.Length;
                }
                if (n != chars)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, $"ended after {n} of {chars} chars", null);
                }
                return n;
            }
            catch (RpcException e)
            {
                Interlocked.Increment(ref errors);
                Interlocked.CompareExchange(ref firstError, $"{e.StatusCode} after {gaps[i].Count + (gaps[i].Count > 0 ? 1 : 0)} messages: {e.Status.Detail}", null);
                return 0;
            }
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        finished?.Invoke();
        await Task.WhenAll(sessions.Select(s => client.CloseSessionAsync(new CloseSessionRequest { SessionId = s.Id }).ResponseAsync));
        return new Result(received.Sum(n => (long)n), seconds, gaps.SelectMany(g => g).ToList(), errors, firstError);
    }
}
