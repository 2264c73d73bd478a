using System.Diagnostics;
using System.Text.Json;
using CharRnn.Protos.V1;
using Grpc.Net.Client;

namespace CharRnn.Bench;

/// <summary>
/// The bench's stream clients in a process of their own (<c>charrnn-bench --stream-client ADDRESS</c>),
/// as remote clients are: their gRPC work has its own thread pool and garbage collector and shares
/// only the cores with the server. The parent sends one JSON command a line on stdin and reads
/// one JSON result a line from stdout.
/// </summary>
public sealed class StreamClientProcess : IAsyncDisposable
{
    public const string Option = "--stream-client";
    private const string Ready = "ready";
    private sealed record Command(int Streams, int Chars, int CharsPerMessage);

    private readonly Process _process;

    private StreamClientProcess(Process process) => _process = process;

    /// <summary>Starts the client process and waits until it has warmed up, so that its first streams do not overlap a measurement.</summary>
    public static async Task<StreamClientProcess> StartAsync(string address)
    {
        var start = SelfLaunch.StartInfo(Option, address);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.UseShellExecute = false;
        var clients = new StreamClientProcess(Process.Start(start)!);
        if (await clients._process.StandardOutput.ReadLineAsync() != Ready)
        {
            await clients.DisposeAsync();
            throw new InvalidOperationException($"The stream client process did not start (it must print \"{Ready}\" once warmed up).");
        }
        return clients;
    }

    public async Task<StreamClients.Result> Run(int streams, int chars, int charsPerMessage)
    {
        await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new Command(streams, chars, charsPerMessage)));
        await _process.StandardInput.FlushAsync();
        var line = await _process.StandardOutput.ReadLineAsync();
        if (line == null)
        {
            await _process.WaitForExitAsync();
            throw new InvalidOperationException($"The stream client process exited with code {_process.ExitCode} before it answered.");
        }
        return JsonSerializer.Deserialize<StreamClients.Result>(line)!;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.StandardInput.Close(); // the child's loop ends at end of input
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await _process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        _process.Dispose();
    }

    /// <summary>The child's side: warms up, then runs each command line and answers with its result.</summary>
    public static async Task<int> Serve(string address)
    {
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        });
        var client = new Generation.GenerationClient(channel);
        // The first streams of a process run unoptimised code; the server's own clients are warm by the time they measure.
        for (int i = 0; i < 3; i++) await StreamClients.Run(client, 64, 100, 1);
        await Console.Out.WriteLineAsync(Ready);
        await Console.Out.FlushAsync();
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var command = JsonSerializer.Deserialize<Command>(line)!;
            var result = await StreamClients.Run(client, command.Streams, command.Chars, command.CharsPerMessage);
            await Console.Out.WriteLineAsync(JsonSerializer.Serialize(result));
            await Console.Out.FlushAsync();
        }
        return 0;
    }
}
