using System.Threading.Channels;
using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.Tui.Tests;

/// <summary>
/// A server, in-process, whose Interact calls answer only when the test says (<see cref="Call.Reply"/>), so that a
/// reply can come after the client has moved on (another model) as a real server's can, at a time a test chooses.
/// </summary>
internal sealed class HandRepliedInteractInvoker : InteractOnlyInvoker
{
    private readonly Channel<Call> _calls = Channel.CreateUnbounded<Call>();

    /// <summary>One Interact call: the requests the client wrote, and the replies the test sends it.</summary>
    public sealed class Call
    {
        internal readonly Channel<InteractRequest> Requests = Channel.CreateUnbounded<InteractRequest>();
        internal readonly Channel<InteractResponse> Replies = Channel.CreateUnbounded<InteractResponse>();
        internal readonly CancellationTokenSource Disposed = new();

        /// <summary>
        /// A reply the server sends as the client ends its requests (what it had left to say): the end waits until the
        /// client's reader has taken it, so that it lands while the client is still closing the call.
        /// </summary>
        public InteractResponse? OnComplete { get; set; }

        internal int Reads; // MoveNext calls begun: one more after a reply means the reader has handled it

        public bool IsDisposed => Disposed.IsCancellationRequested;

        public void Reply(InteractResponse response) => Replies.Writer.TryWrite(response);

        /// <summary>The next request the client wrote on this call.</summary>
        public async Task<InteractRequest> NextRequest() => await Requests.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>The next Interact call the client starts.</summary>
    public async Task<Call> NextCall() => await _calls.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options)
    {
        var call = new Call();
        _calls.Writer.TryWrite(call);
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(new Requests<TRequest>(call), new Responses<TResponse>(call),
            Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => call.Disposed.Cancel());
    }

    private sealed class Requests<T>(Call call) : IClientStreamWriter<T>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(T message)
        {
            call.Requests.Writer.TryWrite((InteractRequest)(object)message!);
            return Task.CompletedTask;
        }

        public async Task CompleteAsync()
        {
            if (call.OnComplete is not { } last) return;
            var reads = Volatile.Read(ref call.Reads);
            call.Reply(last);
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); Volatile.Read(ref call.Reads) == reads && clock.Elapsed < TimeSpan.FromSeconds(10);) await Task.Delay(5);
        }
    }

    private sealed class Responses<T>(Call call) : IAsyncStreamReader<T>
    {
        public T Current { get; private set; } = default!;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref call.Reads);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.Disposed.Token);
            try
            {
                if (!await call.Replies.Reader.WaitToReadAsync(either.Token)) return false;
            }
            catch (OperationCanceledException)
            {
                throw new RpcException(new Status(StatusCode.Cancelled, "Call canceled by the client."));
            }
            Current = (T)(object)await call.Replies.Reader.ReadAsync();
            return true;
        }
    }
}
