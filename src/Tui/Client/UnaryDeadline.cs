using Grpc.Core;
using Grpc.Core.Interceptors;

namespace CharRnn.Tui.Client;

/// <summary>
/// Gives every unary call that has no deadline of its own one <paramref name="limit"/> away, so
/// that a server that takes a call and never answers (wedged, or a link gone quiet) ends the
/// command with an error that says so rather than leaving it waiting for good. Streaming calls
/// (Train, Generate, WatchJob) run as long as they must.
/// </summary>
internal sealed class UnaryDeadline(TimeSpan limit) : Interceptor
{
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, WithDeadline(context));

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, WithDeadline(context));

    private ClientInterceptorContext<TRequest, TResponse> WithDeadline<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class where TResponse : class =>
        context.Options.Deadline != null ? context
            : new(context.Method, context.Host, context.Options.WithDeadline(DateTime.UtcNow + limit));
}
