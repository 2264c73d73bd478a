using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// The server as its own process (dotnet CharRnn.ModelServer.dll) on a loopback port, over a
/// folder that outlives it, so it can be killed and started again on the same models.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private readonly System.Text.StringBuilder _output = new();
    private readonly string[] _extraArguments;
    private Process _process = null!;
    private GrpcChannel? _channel;

    public ServerProcess() : this([]) { }

    internal ServerProcess(string[] extraArguments, string? token = null)
    {
        _extraArguments = extraArguments;
        Token = token;
        Root = Path.Combine(Path.GetTempPath(), "charrnn-process-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(Root, "corpora"));
        File.WriteAllText(Path.Combine(Root, "corpora", "tiny.txt"), ServerFixture.TinyText);
        Port = FreePort();
        Start();
    }

    public string Root { get; }
    public int Port { get; }
    public string? Token { get; }
    public string Address => $"http://127.0.0.1:{Port}";
    public string ModelsDirectory => Path.Combine(Root, "models");
    public GrpcChannel Channel => _channel!;
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts the process (again) on the same folder and port, and waits until it serves.</summary>
    public void Start()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        // The process decides its malloc settings itself (MallocSettings), whatever this shell has.
        start.Environment.Remove(Engine.Runtime.MallocSettings.TunablesVariable);
        start.Environment.Remove(Engine.Runtime.MallocSettings.EnvironmentVariable);
        foreach (var a in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "CharRnn.ModelServer.dll"), $"--CharRnn:Listen=127.0.0.1:{Port}",
                     $"--CharRnn:ModelsDirectory={ModelsDirectory}", $"--CharRnn:CorporaDirectory={Path.Combine(Root, "corpora")}",
                     "--CharRnn:Device=cpu", "--CharRnn:Threads=1",
                 }.Concat(_extraArguments))
            start.ArgumentList.Add(a);
        _process = CharRnn.Engine.Runtime.AsyncSignalMask.StartProcess(start);
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _channel?.Dispose();
        _channel = GrpcChannel.ForAddress(Address, new GrpcChannelOptions
        {
            Credentials = Token == null ? null : ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, m) =>
            {
                m.Add("authorization", "Bearer " + Token);
                return Task.CompletedTask;
            })),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
        WaitUntilServing().GetAwaiter().GetResult();
    }

    /// <summary>kill -9: no chance to clean up.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as systemd or docker stop sends it.</summary>
    public void Terminate() => Signal("-TERM");

    /// <summary>SIGHUP, as a closed terminal or a dropped ssh session sends it.</summary>
    public void HangUp() => Signal("-HUP");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Waits for the exit and then for the last of its output: WaitForExit(timeout) alone can return before the
    /// redirected streams are read to their end, so a line logged just before the exit was sometimes not in Output yet.
    /// </summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return false;
        _process.WaitForExit();
        return true;
    }

    private async Task WaitUntilServing()
    {
        var health = new Health.HealthClient(Channel);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var status = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                if (status.Status == HealthCheckResponse.Types.ServingStatus.Serving) return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(200);
            }
            catch (RpcException e)
            {
                throw new InvalidOperationException($"The server process did not start ({e.Status.Detail}). Output:\n{Output}", e);
            }
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _channel?.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
