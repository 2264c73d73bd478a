using CharRnn.Protos.V1;

namespace CharRnn.Tui.Tests;

/// <summary>
/// An in-process server for InteractiveTyping's tests: the unary calls typing makes (any model name, vocabulary a-z
/// and space; sessions "s-1", "s-2", … in order) answered here, its Interact call by the subclass, others refused.
/// </summary>
internal abstract class InteractOnlyInvoker : UnaryAnswersInvoker
{
    private int _sessions;

    protected override object Answer(object request, string method) => request switch
    {
        GetModelRequest r => new ModelDetails { Summary = new ModelSummary { Name = r.Name }, Vocabulary = " abcdefghijklmnopqrstuvwxyz" },
        OpenSessionRequest r => new Session { Id = $"s-{Interlocked.Increment(ref _sessions)}", ModelName = r.ModelName },
        CloseSessionRequest => new CloseSessionResponse(),
        _ => throw new NotSupportedException(method),
    };
}
