using Grpc.Core;

namespace CharRnn.Tui.Tests;

/// <summary>
/// An in-process server whose unary calls the subclass answers (<see cref="Answer"/>, from the request alone) and whose
/// other calls are refused unless the subclass takes them too.
/// </summary>
internal abstract class UnaryAnswersInvoker : CallInvoker
{
    /// <summary>The reply to <paramref name="request"/>; a <see cref="NotSupportedException"/> for a call the test does not expect.</summary>
    protected abstract object Answer(object request, string method);

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        new(Task.FromResult((TResponse)Answer(request, method.FullName)), Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw new NotSupportedException(method.FullName);

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw new NotSupportedException(method.FullName);

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        throw new NotSupportedException(method.FullName);

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        throw new NotSupportedException(method.FullName);
}
