using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Jobs;
using CharRnn.ModelServer.Models;
using CharRnn.ModelServer.Sessions;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// Ends what a removed key left running: its sessions close (a Generate or Interact under way ends
/// UNAUTHENTICATED) and its queued and running jobs stop (a running one saves, as any stop does).
/// A key is usually removed because it leaked or its owner left: its calls are refused at once by
/// <see cref="AuthInterceptor"/>, and this takes back the device and memory it held, within a second
/// or so. Its models stay, owned by its name (the keys file keeps the name, marked removed).
/// </summary>
public sealed class RemovedKeySweeper(AuthInterceptor auth, SessionStore sessions, JobQueue jobs, DeviceWorker worker, ModelStore models,
    ILogger<RemovedKeySweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    private static readonly Caller Sweeper = new("removed-key-sweeper", Admin: true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!auth.Enabled) return;
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try { await SweepAsync(stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (ServerException) when (stoppingToken.IsCancellationRequested) { return; } // the device loop has stopped
            catch (Exception e) { logger.LogError(e, "Ending a removed key's sessions and jobs failed; trying again"); } // never fatal: a BackgroundService's end stops the host
        }
    }

    private async Task SweepAsync(CancellationToken stoppingToken)
    {
        var (keys, problem) = auth.Current();
        if (problem != null) return; // an unreadable file refuses every call already; it says nothing of which keys went
        var removed = keys.RemovedKeys.Select(k => k.Name).ToHashSet(StringComparer.Ordinal);
        removed.ExceptWith(keys.Keys.Select(k => k.Name));
        if (removed.Count == 0) return;

        foreach (var session in sessions.All.Where(s => removed.Contains(s.Owner)))
        {
            if (!sessions.Remove(session.Id, out _)) continue;
            logger.LogInformation("Session {SessionId} closed: its key '{Key}' was removed", session.Id, session.Owner);
            var why = new ServerException(Grpc.Core.StatusCode.Unauthenticated, $"Session '{session.Id}' was closed: its API key '{session.Owner}' was removed from this server.");
            await worker.Run(() => SessionCloser.Close(session, worker, models, why), stoppingToken).ConfigureAwait(false);
        }
        foreach (var job in jobs.List(Sweeper).Where(j => j.State is JobState.Queued or JobState.Running && removed.Contains(j.Owner) && j.StopRequest == null))
        {
            logger.LogInformation("Job {JobId} stopped: its key '{Key}' was removed", job.Id, job.Owner);
            jobs.Stop(job.Id, Sweeper, $"stopped: key '{job.Owner}' was removed");
        }
    }
}
