using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.Tui.Tests;

/// <summary>
/// A server, in-process, whose Interact call ends with <paramref name="status"/> while the client's write is in flight:
/// the status reaches the response stream first, and only once <paramref name="statusSeen"/> says the client read it
/// does the write fail CANCELLED, as grpc-dotnet's write does when the server ends the call under it. A real server
/// gives the two in either order; this one always in the order that hid the call's status.
/// </summary>
internal sealed class CallEndedDuringWriteInvoker(RpcException status, Func<bool> statusSeen) : InteractOnlyInvoker
{
    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options)
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(new Requests<TRequest>(ended, statusSeen), new Responses<TResponse>(ended.Task, status),
            Task.FromResult(new Metadata()), () => ended.Task.IsCompleted ? status.Status : throw new InvalidOperationException("The call is not complete."),
            () => status.Trailers, () => ended.TrySetResult());
    }

    private sealed class Requests<T>(TaskCompletionSource ended, Func<bool> statusSeen) : IClientStreamWriter<T>
    {
        public WriteOptions? WriteOptions { get; set; }

        public async Task WriteAsync(T message)
        {
            ended.TrySetResult(); // the server ends the call while this message is being written
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); !statusSeen() && clock.Elapsed < TimeSpan.FromSeconds(10);) await Task.Delay(10);
            throw new RpcException(new Status(StatusCode.Cancelled, "Call canceled by the client."));
        }

        public Task CompleteAsync() => Task.CompletedTask;
    }

    private sealed class Responses<T>(Task ended, RpcException status) : IAsyncStreamReader<T>
    {
        public T Current => throw new InvalidOperationException("No message was read.");

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            await ended.WaitAsync(cancellationToken);
            throw status;
        }
    }
}
