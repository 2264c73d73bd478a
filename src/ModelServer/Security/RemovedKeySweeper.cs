using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Jobs;
using CharRnn.ModelServer.Sessions;
using CharRnn.ModelServer.TrainedModels;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// Ends what a removed key left running: its sessions close (a Generate under way ends
/// UNAUTHENTICATED), its streams (Interact, Train) end UNAUTHENTICATED, and its queued and running
/// jobs stop (a running one saves, as any stop does). A key is usually removed because it leaked or
/// its owner left: its calls are refused at once by <see cref="AuthInterceptor"/>, and this takes
/// back the device and memory it held, within two seconds (a key must be missing at two sweeps in a row: a keys file is briefly absent while some editors save it). It goes by the key itself, not its
/// name: `keys remove bob &amp;&amp; keys add bob --reuse-name` (a leaked key rotated) must not leave the
/// old key's streams running under the new one's name. Models stay, owned by the name.
/// </summary>
public sealed class RemovedKeySweeper(KeysFileRemovals removals, SessionStore sessions, JobQueue jobs, DeviceWorker worker, ModelStore models,
    KeyRevocations revocations, ILogger<RemovedKeySweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    private static readonly Caller Sweeper = new("removed-key-sweeper", Admin: true);
    private HashSet<string> _goneBefore = new(StringComparer.Ordinal); // keys missing at the last sweep

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!removals.Enabled) return;
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
        // An unreadable file, or none at all (an editor that saves by renaming leaves it missing for a moment), refuses
        // every call already, and says nothing of which keys went: nothing is swept for it.
        if (removals.Read() is not { } removed) { _goneBefore.Clear(); return; }
        var valid = removed.Valid;
        revocations.Restore(valid);
        var open = sessions.All;
        var active = jobs.List(Sweeper).Where(j => j.State is JobState.Queued or JobState.Running).ToList();
        // A key is swept once it is missing at two sweeps in a row, not at one glance at a file being rewritten.
        var missing = revocations.Watched.Concat(open.Select(s => s.KeyHash)).Concat(active.Select(j => j.KeyHash))
            .OfType<string>().Where(k => !valid.Contains(k)).ToHashSet(StringComparer.Ordinal);
        var gone = missing.Where(_goneBefore.Contains).ToHashSet(StringComparer.Ordinal);
        _goneBefore = missing;
        bool Gone(string? keyHash) => keyHash != null && gone.Contains(keyHash);

        foreach (var key in revocations.Watched.Where(k => Gone(k)))
            revocations.Revoke(key);
        foreach (var session in open.Where(s => Gone(s.KeyHash)))
        {
            if (!sessions.Remove(session.Id, out _)) continue;
            logger.LogInformation("Session {SessionId} closed: its key ('{Key}') was removed", session.Id, session.Owner);
            var why = ServerException.Unauthenticated($"Session '{session.Id}' was closed: its API key '{session.Owner}' was removed from this server.", ErrorReasons.KeyRemoved);
            await worker.Run(() => SessionCloser.Close(session, worker, models, why), stoppingToken).ConfigureAwait(false);
        }
        // A job stored by an older server, without its key, goes by its owner's name (RemovedKeys.Gone).
        foreach (var job in active.Where(j => j.StopRequest == null && (Gone(j.KeyHash) || (j.KeyHash == null && removed.Gone(null, j.Owner)))))
        {
            logger.LogInformation("Job {JobId} stopped: its key ('{Key}') was removed", job.Id, job.Owner);
            jobs.Stop(job.Id, Sweeper, RemovedKeys.StopReason(job.Owner));
        }
    }
}
