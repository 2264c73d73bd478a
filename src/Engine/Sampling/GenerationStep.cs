using CharRnn.Engine.Models;
using static TorchSharp.torch;

namespace CharRnn.Engine.Sampling;

/// <summary>
/// Advances many sessions of one model by one character in a single batched model step
/// (continuous batching for recurrent state): each session samples its next char on the host
/// from its own distribution and generator, then all rows run through the model together.
/// Sessions can join or leave between steps; their results do not depend on the company.
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
        var device = sessions[0].State.Parts[0].device;
        var state = RecurrentState.Concat(sessions.Select(s => s.State).ToList());
        var (logits, next) = model.Step(tensor(ids).to(device), state);
        var vocab = (int)logits.shape[1];
        var host = logits.to(ScalarType.Float32).cpu().data<float>().ToArray();
        for (int i = 0; i < sessions.Count; i++)
            sessions[i].Accept(host.AsSpan(i * vocab, vocab).ToArray(), next.Rows(i, 1), count: 1);
        return picked;
    }
}
