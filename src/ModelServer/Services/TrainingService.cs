using CharRnn.ModelServer.Corpora;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Jobs;
using CharRnn.ModelServer.TrainedModels;
using CharRnn.ModelServer.Security;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>Training jobs: start, watch (from any step, by any number of clients), stop, list.</summary>
public sealed class TrainingService(JobQueue jobs, ModelStore models, CorpusStore corpora, ServerLifetime lifetime, IOptions<ServerOptions> options,
    ILogger<TrainingService> logger) : Api.Training.TrainingBase
{
    private readonly JobPlanning _planning = new(models, corpora, options.Value.Limits);

    private JobPlan Plan(Api.StartJobRequest request, Caller caller)
    {
        // A model its first job has not saved yet: resuming it is refused as what it is, not as "no model".
        if (request.Resume) jobs.ThrowIfUnsaved(ModelNames.Validate(request.ModelName), caller);
        // Read before the corpus is: a replacement of it before the job is queued refuses the job (JobQueue.CorpusHolds).
        var seen = jobs.CorpusChangeCount;
        return _planning.Plan(request, caller) with { CorpusChangesSeen = seen };
    }

    public override Task<Api.Job> StartJob(Api.StartJobRequest request, ServerCallContext context) =>
        Task.FromResult(Describe(Enqueue(request, context)));

    public override Task<Api.Job> CheckJob(Api.StartJobRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var plan = Plan(request, caller);
        jobs.CheckAdmits(plan, caller);
        return Task.FromResult(ProtoMapper.ToCheckedJob(plan));
    }

    public override async Task Train(Api.StartJobRequest request, IServerStreamWriter<Api.JobEvent> responseStream, ServerCallContext context)
    {
        var job = Enqueue(request, context);
        await Stream(job, 0, -1, responseStream, context);
    }

    public override async Task WatchJob(Api.WatchJobRequest request, IServerStreamWriter<Api.JobEvent> responseStream, ServerCallContext context)
    {
        if (request.FromStep < 0)
            throw Errors.ServerException.Invalid($"from_step = {request.FromStep} is not allowed; use 0 (from the start) or a step number.");
        if (request.HasAfterSequence && request.AfterSequence < -1)
            throw Errors.ServerException.Invalid($"after_sequence = {request.AfterSequence} is not allowed; use the sequence of the last event received (0 or more), or -1 for all.");
        var job = jobs.Get(request.JobId, Caller.Of(context));
        // Past the newest event, a stream would wait for nothing, or end with no end event: a sequence from another job.
        if (request.HasAfterSequence && request.AfterSequence > job.Events.LastSequence)
            throw Errors.ServerException.Invalid($"after_sequence = {request.AfterSequence} is past job {job.Id}'s newest event ({job.Events.LastSequence}); " +
                                                 "use the sequence of the last event received from this job, or -1 for all.");
        if (request.HasAfterSequence) await Stream(job, 0, request.AfterSequence, responseStream, context);
        else await Stream(job, request.FromStep, -1, responseStream, context);
    }

    public override Task<Api.Job> StopJob(Api.StopJobRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var job = jobs.Stop(request.JobId, caller, StoppedBy(caller));
        // Logged now: a running job's end is logged only once it has checkpointed, which can take a while,
        // and an admin stopping another key's job is worth an operator's notice when it happens.
        if (caller == Caller.Local && job.Owner == caller.Name) // without keys: no key to name, one user
            logger.LogInformation("Stop requested for job {JobId} (model {Model})", job.Id, job.ModelName);
        else
            logger.LogInformation("Stop requested for job {JobId} (model {Model}, owner {Owner}) by key {Key}", job.Id, job.ModelName, job.Owner, caller.Name);
        return Task.FromResult(Describe(job));
    }

    /// <summary>Why a job stopped: by whom, where keys tell people apart (a server without keys has one user, and "key 'local'" meant nothing to them).</summary>
    private static string StoppedBy(Caller caller) => caller == Caller.Local ? "stopped on request" : $"stopped by key '{caller.Name}'";

    public override Task<Api.Job> GetJob(Api.GetJobRequest request, ServerCallContext context) =>
        Task.FromResult(Describe(jobs.Get(request.JobId, Caller.Of(context))));

    public override Task<Api.ListJobsResponse> ListJobs(Api.ListJobsRequest request, ServerCallContext context)
    {
        var response = new Api.ListJobsResponse();
        response.Jobs.AddRange(jobs.List(Caller.Of(context)).Select(Describe));
        return Task.FromResult(response);
    }

    private TrainingJob Enqueue(Api.StartJobRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var job = jobs.Enqueue(Plan(request, caller), caller);
        logger.LogInformation("Job {JobId} queued by {Owner} ({Peer}): model {Model}", job.Id, caller.Name, context.Peer, job.ModelName);
        return job;
    }

    private Api.Job Describe(TrainingJob job)
    {
        var (state, position) = jobs.StateOf(job);
        return ProtoMapper.ToProto(job, state, position);
    }

    /// <summary>The stream's single writer: stored events from a step on (or after a sequence number), then live ones, until the job ends or the client leaves.</summary>
    private async Task Stream(TrainingJob job, long fromStep, long afterSequence, IServerStreamWriter<Api.JobEvent> stream, ServerCallContext context)
    {
        using var call = lifetime.Link(context);
        try
        {
            await foreach (var e in job.Events.Follow(fromStep, afterSequence, call.Token))
                await stream.WriteAsync(ProtoMapper.ToProto(e, job.Warnings), context.CancellationToken);
        }
        catch (OperationCanceledException) when (lifetime.Stopping.IsCancellationRequested)
        {
            throw lifetime.Unavailable();
        }
    }
}
