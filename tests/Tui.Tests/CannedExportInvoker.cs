using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.Tui.Tests;

/// <summary>
/// A server, in-process, whose ExportModel answers with <paramref name="chunks"/> whatever is asked: a download damaged
/// on its way (a size or SHA-256 that is not the bytes'), which a real server cannot be made to send.
/// </summary>
internal sealed class CannedExportInvoker(params ExportModelChunk[] chunks) : CallInvoker
{
    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        request is ExportModelRequest
            ? new AsyncServerStreamingCall<TResponse>(new Responses<TResponse>(chunks.Cast<TResponse>().ToList()), Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { })
            : throw new NotSupportedException(method.FullName);

    private sealed class Responses<T>(List<T> messages) : IAsyncStreamReader<T>
    {
        private int _next = -1;
        public T Current => messages[_next];
        public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(++_next < messages.Count);
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException(method.FullName);
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException(method.FullName);
    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException(method.FullName);
    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException(method.FullName);
}
