using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.Tui.Client;

/// <summary>
/// "Type with the model" over the Interact stream: each typed piece goes to the server, which
/// advances the session's state by one step per character and streams back a predicted
/// continuation. Only the prediction for the newest piece is kept (older ones are stale).
/// Thread-safe: keystrokes come from the UI thread, predictions from the stream.
/// </summary>
public sealed class InteractiveTyping : IAsyncDisposable
{
    private readonly CharRnnClient _client;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private AsyncDuplexStreamingCall<InteractRequest, InteractResponse>? _call;
    private Task _reader = Task.CompletedTask;
    private long _requests;
    private long _predictionFor = -1;
    private string _prediction = "";
    private int _version;

    public InteractiveTyping(CharRnnClient client) => _client = client;

    public string? Model { get; private set; }
    public string? SessionId { get; private set; }
    public int PredictChars { get; set; } = 24;
    public int Version => Volatile.Read(ref _version);
    public string? Error { get; private set; }

    /// <summary>The continuation predicted after everything typed so far (may still be arriving).</summary>
    public string Prediction
    {
        get { lock (_gate) return _predictionFor == _requests - 1 ? _prediction : ""; }
    }

    /// <summary>Opens a greedy session on the model and the stream to it.</summary>
    public async Task StartAsync(string model, CancellationToken cancellation = default)
    {
        await StopAsync();
        var session = await _client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = model, Sampling = new SamplingSettings { Temperature = 0 } }, cancellationToken: cancellation);
        Model = model;
        SessionId = session.Id;
        Error = null;
        _requests = 0;
        _call = _client.Generation.Interact(cancellationToken: cancellation);
        var call = _call;
        _reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var r in call.ResponseStream.ReadAllAsync())
                {
                    lock (_gate)
                    {
                        if (r.RequestIndex != _requests - 1) continue; // stale
                        if (_predictionFor != r.RequestIndex) { _predictionFor = r.RequestIndex; _prediction = ""; }
                        _prediction += r.Text;
                    }
                    Interlocked.Increment(ref _version);
                }
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
            {
                Error = CharRnnClient.Describe(e);
                Interlocked.Increment(ref _version);
            }
            catch (RpcException)
            {
            }
        });
    }

    /// <summary>Sends newly typed text (one state step per character on the server).</summary>
    public Task TypeAsync(string text) => SendAsync(new InteractRequest { Text = text });

    /// <summary>After a deletion: the session restarts and reads the whole text again.</summary>
    public Task RetypeAsync(string whole) => SendAsync(new InteractRequest { Text = whole, Reset = true });

    private async Task SendAsync(InteractRequest request)
    {
        if (_call == null || SessionId == null) return;
        request.SessionId = SessionId;
        request.PredictChars = PredictChars;
        await _send.WaitAsync();
        try
        {
            lock (_gate) { _requests++; _prediction = ""; }
            Interlocked.Increment(ref _version);
            await _call.RequestStream.WriteAsync(request);
        }
        catch (RpcException e)
        {
            Error = CharRnnClient.Describe(e);
        }
        catch (InvalidOperationException e)
        {
            Error = e.Message;
        }
        finally
        {
            _send.Release();
        }
    }

    public async Task StopAsync()
    {
        if (_call != null)
        {
            try { await _call.RequestStream.CompleteAsync(); } catch (Exception e) when (e is RpcException or InvalidOperationException) { }
            _call.Dispose();
            try { await _reader; } catch (RpcException) { }
            _call = null;
        }
        if (SessionId != null)
        {
            try { await _client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = SessionId }); } catch (RpcException) { }
            SessionId = null;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
