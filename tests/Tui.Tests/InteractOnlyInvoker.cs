using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.Tui.Tests;

/// <summary>
/// An in-process server for InteractiveTyping's tests: the unary calls typing makes (any model name, vocabulary a-z
/// and space; sessions "s-1", "s-2", … in order) answered here, its Interact call by the subclass, others refused.
/// </summary>
internal abstract class InteractOnlyInvoker : CallInvoker
{
    private int _sessions;

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        object response = request switch
        {
            GetModelRequest r => new ModelDetails { Summary = new ModelSummary { Name = r.Name }, Vocabulary = " abcdefghijklmnopqrstuvwxyz" },
            OpenSessionRequest r => new Session { Id = $"s-{Interlocked.Increment(ref _sessions)}", ModelName = r.ModelName },
            CloseSessionRequest => new CloseSessionResponse(),
            _ => throw new NotSupportedException(method.FullName),
        };
        return new AsyncUnaryCall<TResponse>(Task.FromResult((TResponse)response), Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw new NotSupportedException(method.FullName);

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw new NotSupportedException(method.FullName);

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        throw new NotSupportedException(method.FullName);
}
