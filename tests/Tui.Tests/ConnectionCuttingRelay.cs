using System.Net;
using System.Net.Sockets;

namespace CharRnn.Tui.Tests;

/// <summary>
/// A TCP relay in front of a server that resets both sides of the connection once the client has sent
/// <paramref name="cutAfterBytes"/>, and then refuses new ones: what a client sees when its server is killed
/// (kill -9, a crash) in the middle of a call.
/// </summary>
internal sealed class ConnectionCuttingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _serverPort;
    private readonly long _cutAfterBytes;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _sent;
    private int _cut;

    public ConnectionCuttingRelay(int serverPort, long cutAfterBytes)
    {
        _serverPort = serverPort;
        _cutAfterBytes = cutAfterBytes;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    /// <summary>Whether the connection was cut (the client sent enough bytes).</summary>
    public bool Cut => Volatile.Read(ref _cut) == 1;

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                _ = RelayAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _serverPort, _stop.Token);
            await Task.WhenAny(PumpAsync(client, server, counted: true), PumpAsync(server, client, counted: false));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        finally
        {
            Reset(client);
            Reset(server);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool counted)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0) return;
                if (counted && Interlocked.Add(ref _sent, read) > _cutAfterBytes)
                {
                    Interlocked.Exchange(ref _cut, 1);
                    _listener.Stop(); // the server is gone: a reconnect is refused
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    /// <summary>Closes with a reset (linger 0), as the kernel does for the sockets of a process that was killed.</summary>
    private static void Reset(Socket socket)
    {
        try { socket.LingerState = new LingerOption(true, 0); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        socket.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
