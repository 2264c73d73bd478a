using CharRnn.ModelServer.Sessions;
using CharRnn.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>Idle sessions expire (a server with a 1 s idle timeout), unless an open Interact stream keeps them.</summary>
public sealed class ExpiryTests : IDisposable
{
    private readonly ServerFixture _server = new(o => o.Limits.SessionIdleSeconds = 1);

    [Fact]
    public async Task Idle_sessions_expire_and_then_are_not_found()
    {
        var s = await _server.Generation.Open("gru");
        // Polled without touching the session (a call on it would keep it alive): the reaper's pass comes when it comes.
        var store = _server.Services.GetRequiredService<SessionStore>();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); store.Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(30);) await Task.Delay(100);
        Assert.True(store.Count == 0, "the reaper did not close the idle session within 30 s");
        var e = await Calls.Fails(() => _server.Generation.Generate(s.Id, 5));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("expired after 1 s idle", e.Status.Detail);
    }

    [Fact]
    public async Task An_open_interact_stream_keeps_its_session_however_long_the_user_pauses()
    {
        var s = await _server.Generation.Open("gru", temperature: 0);
        var store = _server.Services.GetRequiredService<SessionStore>();
        using (var call = _server.Generation.Interact())
        {
            await call.RequestStream.WriteAsync(new InteractRequest { SessionId = s.Id, Text = "the", PredictChars = 2 });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            await Task.Delay(TimeSpan.FromSeconds(4)); // a pause four times the idle timeout, several reaper passes
            Assert.Equal(1, store.Count);
            await call.RequestStream.WriteAsync(new InteractRequest { Text = " c", PredictChars = 0 });
            await call.RequestStream.CompleteAsync();
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { } // ends OK: the session was still there
        }
        Assert.Equal(5, (await _server.Generation.GetSessionAsync(new GetSessionRequest { SessionId = s.Id })).CharactersSeen);
        // Closed, the stream no longer holds it: it expires as any other.
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); store.Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(30);) await Task.Delay(100);
        Assert.Equal(0, store.Count);
    }

    public void Dispose() => _server.Dispose();
}
