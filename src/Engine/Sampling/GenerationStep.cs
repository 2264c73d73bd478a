using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using static TorchSharp.torch;

namespace CharRnn.Engine.Sampling;

/// <summary>
/// Advances many sessions of one model by one character in a single batched model step
/// (continuous batching for recurrent state): each session samples its next char on the host
/// from its own distribution and generator, then all rows run through the model together.
/// Sessions can join or leave between steps; their results do not depend on the company beyond
/// float rounding (a product's last bits can depend on the batch's width; `make bench`'s
/// batch-invariance section measures it). The
/// new state stays one batch (<see cref="SharedBatchState"/>), so a group that steps together
/// again costs no per-session tensor work.
/// On a GPU a step makes one host round-trip: the sampled ids go up, the logits come back in one
/// copy ([sessions × vocabulary] floats, ~60 KB for 256 sessions of a char model). Sampling stays
/// on the host so that each session draws from its own seeded generator, in double precision,
/// whatever its company in the batch.
/// </summary>
public static class GenerationStep
{
    public static IReadOnlyList<GeneratedChar> Advance(IReadOnlyList<GenerationSession> sessions, int alternatives = 0)
    {
        if (sessions.Count == 0) return [];
        var model = sessions[0].Model;
        if (sessions.Any(s => !ReferenceEquals(s.Model, model)))
            throw new ArgumentException("A batched step needs sessions of one model.", nameof(sessions));

        var picked = new GeneratedChar[sessions.Count];
        var ids = new long[sessions.Count];
        for (int i = 0; i < sessions.Count; i++)
        {
            picked[i] = sessions[i].Pick(alternatives);
            ids[i] = picked[i].Id;
        }

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var previous = sessions[0].Shared;
        var sameGroup = previous != null && previous.Batch.BatchSize == sessions.Count;
        for (int i = 0; sameGroup && i < sessions.Count; i++)
            sameGroup = ReferenceEquals(sessions[i].Shared, previous) && sessions[i].Row == i;
        var state = sameGroup ? previous!.Batch : RecurrentState.Concat(sessions.Select(s => s.State).ToList());
        var (logits, next) = model.Step(tensor(ids).to(sessions[0].Device), state);
        var vocab = (int)logits.shape[1];
        var host = HostCopy.Floats(logits);
        var shared = new SharedBatchState(next.DetachFromDisposeScope());
        // Each row gets its own copy: a slice would keep the whole step's array alive for as long as
        // any of its sessions sits idle.
        for (int i = 0; i < sessions.Count; i++)
            sessions[i].Accept(host.AsSpan(i * vocab, vocab).ToArray(), shared, i); // the last to leave `previous` frees it
        return picked;
    }
}
