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
