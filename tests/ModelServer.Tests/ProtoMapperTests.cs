using CharRnn.Engine.Models;
using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Jobs;
using CharRnn.ModelServer.Services;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// Every value of the server's enums reaches the wire as the proto value of the same name: one added on
/// the engine's or server's side without a mapping fails here, not as a wrong state in a client.
/// </summary>
public class ProtoMapperTests
{
    [Fact]
    public void Every_job_state_maps_to_its_namesake()
    {
        foreach (var state in Enum.GetValues<JobState>())
            Assert.Equal(state.ToString(), ProtoMapper.ToProto(state).ToString());
    }

    [Fact]
    public void Every_hyperparameter_type_maps_to_its_namesake()
    {
        foreach (var type in Enum.GetValues<HyperParameterType>())
            Assert.Equal(type.ToString(), ProtoMapper.ToProto(type).ToString());
    }

    [Fact]
    public void Every_finish_maps_to_its_namesake_and_none_to_unspecified()
    {
        foreach (var finish in Enum.GetValues<GenerationFinish>())
            Assert.Equal(finish == GenerationFinish.None ? "Unspecified" : finish.ToString(), ProtoMapper.ToProto(finish).ToString());
    }

    [Fact]
    public void A_model_being_made_is_listed_from_the_plan_read_with_its_job_though_the_job_has_ended_since()
    {
        // ListModels reads the jobs making models, then the model folders, then maps the jobs: one that ended in
        // between has forgotten its plan (seen in CI as an INTERNAL NullReferenceException from ListModels).
        var architecture = Architectures.Get("stateful-gru");
        var plan = JobPlan.NewModel("making", "/nowhere/making", new Engine.Text.Corpus("tiny", "some text", "ab12"), uploadedCorpus: false, "tiny",
            architecture, architecture.Resolve(), new Engine.Training.TrainingOptions { Lowercase = true });
        var job = new TrainingJob(plan, "local") { Architecture = architecture.Name };
        job.ForgetPlan();
        var summary = ProtoMapper.ToUnsavedSummary(job, plan, queued: false);
        Assert.Equal(("making", "stateful-gru", "tiny", "ab12", true, true, false),
            (summary.Name, summary.Architecture, summary.CorpusName, summary.CorpusSha256, summary.Lowercase, summary.Training, summary.Queued));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_stop_says_whether_it_was_asked_for(bool onRequest)
    {
        var e = ProtoMapper.ToProto(new JobEvent(3, "j-1", DateTimeOffset.UnixEpoch, 10, new JobStopped("stopped on request", true, OnRequest: onRequest)), []);
        Assert.Equal(onRequest, e.Stopped.OnRequest);
    }

    [Fact]
    public void Min_delta_maps_both_ways_and_a_field_left_unset_keeps_the_models()
    {
        var applied = ProtoMapper.Apply(new Api.TrainingOptions { Patience = 2, MinDelta = 0.05 }, new CharRnn.Engine.Training.TrainingOptions(), 100);
        Assert.Equal((2, 0.05), (applied.Patience, applied.MinDelta));
        Assert.Equal(0.05, ProtoMapper.ToProto(applied).MinDelta);
        var kept = ProtoMapper.Apply(new Api.TrainingOptions { Epochs = 5 }, applied, 100, new HashSet<string> { "epochs", "min_delta" });
        Assert.Equal(0.05, kept.MinDelta);
        Assert.Equal(0, ProtoMapper.Apply(new Api.TrainingOptions { MinDelta = 0 }, applied, 100, new HashSet<string> { "min_delta" }).MinDelta);
    }

    [Fact]
    public void A_value_without_a_mapping_is_refused_by_name()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ProtoMapper.ToProto((JobState)99));
        Assert.Contains("no proto value for this job state", e.Message);
        Assert.Equal(99, (int)(JobState)e.ActualValue!);
    }
}
