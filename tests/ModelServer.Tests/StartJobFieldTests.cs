using CharRnn.ModelServer.Errors;
using CharRnn.Protos.V1;
using Google.Rpc;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A StartJob refusal whose message names a request field names it to programs too (ErrorInfo
/// INVALID_FIELD and a BadRequest), even where the message does not open "field = …": a client
/// that marks the field at fault in its form must not have to parse English.
/// </summary>
[Collection(ServerCollection.Name)]
public class StartJobFieldTests(ServerFixture server)
{
    private async Task<string> RefusedField(StartJobRequest request)
    {
        var e = await Calls.Fails(() => server.Training.CheckJobAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        var status = e.GetRpcStatus()!;
        Assert.Equal(ErrorReasons.InvalidField, status.GetDetail<ErrorInfo>()!.Reason);
        var field = Assert.Single(status.GetDetail<BadRequest>()!.FieldViolations).Field;
        Assert.Equal(field, status.GetDetail<ErrorInfo>()!.Metadata["field"]);
        return field;
    }

    private static StartJobRequest Resume(TrainingOptions options) => new() { ModelName = "gru", Resume = true, Options = options };

    [Fact]
    public async Task A_resume_that_changes_a_fixed_option_names_that_option()
    {
        // The fixture's gru trained with seed 0 and no lowercase; both define its data, so a resume keeps them.
        Assert.Equal("options.seed", await RefusedField(Resume(new TrainingOptions { Epochs = 9, Seed = 7 })));
        Assert.Equal("options.lowercase", await RefusedField(Resume(new TrainingOptions { Epochs = 9, Lowercase = true })));
    }

    [Fact]
    public async Task A_resume_with_nothing_left_to_train_names_the_option_to_raise()
    {
        // The fixture's gru trained its 60 steps of max_steps 60 (or its 3 epochs).
        var field = await RefusedField(Resume(new TrainingOptions()));
        Assert.Contains(field, new[] { "options.max_steps", "options.epochs" });
        Assert.Equal("options.epochs", await RefusedField(Resume(new TrainingOptions { MaxSteps = 0, Epochs = 1 })));
    }

    [Fact]
    public async Task Keep_cycle_checkpoints_without_cycles_and_an_empty_corpus_text_name_their_fields()
    {
        var cycles = new StartJobRequest { ModelName = "no-cycles", Architecture = "stateful-gru", CorpusName = "tiny", Options = new TrainingOptions { KeepCycleCheckpoints = true } };
        Assert.Equal("options.keep_cycle_checkpoints", await RefusedField(cycles));
        Assert.Equal("corpus_text", await RefusedField(new StartJobRequest { ModelName = "empty-text", Architecture = "stateful-gru", CorpusText = "" }));
    }
}
