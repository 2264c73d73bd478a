using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.Tui.Tests;

/// <summary>
/// A server, in-process, that takes any StartJob with <paramref name="job"/>, lists it alone, stops it at once, and whose WatchJob sends that job's end at once:
/// how a REPL line shows what a server answered (Job.warnings it cannot work out itself, or none from an older server).
/// </summary>
internal sealed class CannedJobInvoker(Job job) : CallInvoker
{
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        object answer = request switch
        {
            ListArchitecturesRequest => new ListArchitecturesResponse { Architectures = { new Architecture { Name = job.Architecture } } },
            StartJobRequest => job,
            ListJobsRequest => new ListJobsResponse { Jobs = { job } },
            StopJobRequest => new Job(job) { State = Job.Types.State.Stopped },
            _ => throw new NotSupportedException(method.FullName),
        };
        return new AsyncUnaryCall<TResponse>(Task.FromResult((TResponse)answer), Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        if (request is not WatchJobRequest) throw new NotSupportedException(method.FullName);
        // As a server streams them: the queued and started events carry the job's warnings.
        var events = new List<JobEvent>
        {
            new() { JobId = job.Id, Queued = new JobEvent.Types.Queued { Position = 1, Warnings = { job.Warnings } } },
            new() { Sequence = 1, JobId = job.Id, Started = new JobEvent.Types.Started { Device = "cpu", TotalSteps = 1, Warnings = { job.Warnings } } },
            new() { Sequence = 2, JobId = job.Id, Finished = new JobEvent.Types.Finished { Reason = "finished" } },
        };
        return new AsyncServerStreamingCall<TResponse>(new Responses<TResponse>([.. events.Cast<TResponse>()]), Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
    }

    private sealed class Responses<T>(List<T> messages) : IAsyncStreamReader<T>
    {
        private int _next = -1;
        public T Current => messages[_next];
        public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(++_next < messages.Count);
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException(method.FullName);
    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException(method.FullName);
    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException(method.FullName);
}
