using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.TrainedModels;

namespace CharRnn.ModelServer.Sessions;

/// <summary>Closes sessions idle longer than their timeout, freeing their device memory.</summary>
public sealed class SessionReaper(SessionStore sessions, DeviceWorker worker, ModelStore models, ILogger<SessionReaper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(sessions.IdleTimeout.TotalSeconds / 4, 0.2, 5));
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            foreach (var session in sessions.Idle())
            {
                if (!session.IsIdle()) continue; // used since the list was made
                if (!sessions.Remove(session.Id, out _)) continue;
                logger.LogInformation("Session {SessionId} expired after {Idle} idle ({Summary})", session.Id, Engine.Training.DurationText.Format(sessions.IdleTimeout), session.Summary());
                // Not cancelled by the stop (the session is out of the store: its close must run), and never
                // fatal: an exception here would end the reaper, and a BackgroundService's end stops the host.
                try { await worker.Run(() => SessionCloser.Close(session, worker, models)).ConfigureAwait(false); }
                catch (Errors.ServerException) when (stoppingToken.IsCancellationRequested) { return; } // the loop has stopped: the process frees it
                catch (Exception e) { logger.LogError(e, "Closing expired session {SessionId} failed", session.Id); }
            }
        }
    }
}

/// <summary>
/// Frees a session's device state and its hold on the model (device thread), once. Commands that
/// were queued for the session before it closed find it marked closed and answer NOT_FOUND.
/// </summary>
public static class SessionCloser
{
    /// <param name="why">What calls still under way on the session end with (by default NOT_FOUND, "was closed").</param>
    public static void Close(ServerSession session, DeviceWorker worker, ModelStore models, Errors.ServerException? why = null)
    {
        if (!session.MarkClosed(why)) return;
        worker.Abort(session, why ?? Errors.ServerException.NotFound($"Session '{session.Id}' was closed.", Errors.ErrorReasons.SessionNotFound, ("session_id", session.Id)));
        session.Generation.Dispose();
        models.Release(session.Model);
    }
}
