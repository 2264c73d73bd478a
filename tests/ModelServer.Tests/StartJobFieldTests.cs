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

    /// <summary>An empty corpus_text (a BOM alone is empty too) is named as the field it is, not as a corpus called 'corpus_text'.</summary>
    [Theory]
    [InlineData("")]
    [InlineData("\uFEFF")]
    public async Task An_empty_corpus_text_is_refused_naming_the_field_and_the_other_way_to_give_a_corpus(string text)
    {
        var e = await Calls.Fails(() => server.Training.CheckJobAsync(
            new StartJobRequest { ModelName = "empty-text", Architecture = "stateful-gru", CorpusText = text }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("corpus_text is empty; a corpus needs some text to learn from. Send the text, or name a corpus the server has with corpus_name (ListCorpora).",
                     e.Status.Detail);
    }

    /// <summary>
    /// A corpus too short for the batch layout names the setting its message offers to change: bs for a stateful model's
    /// streams, context for a windowed one's windows, and the corpus where no hyperparameter can help (a fixed window, a
    /// text too short even for bs 1, init_from's model whose hyperparameters the job keeps).
    /// </summary>
    [Fact]
    public async Task A_corpus_too_short_for_the_layout_names_the_hyperparameter_to_lower_or_the_corpus()
    {
        StartJobRequest Short(string architecture, string text, string? parameter = null, double value = 0)
        {
            var request = new StartJobRequest { ModelName = "too-short", Architecture = architecture, CorpusText = text };
            if (parameter != null) request.Hyperparameters[parameter] = value;
            return request;
        }
        Assert.Equal("hyperparameters[bs]", await RefusedField(Short("stateful-gru", "abcdefghijklmnopqrst", "bs", 64)));
        Assert.Equal("hyperparameters[context]", await RefusedField(Short("rnn", "abcdefghijklmnopqrst", "context", 19)));
        Assert.Equal("corpus_text", await RefusedField(Short("char3", "abcd")));
        Assert.Equal("corpus_text", await RefusedField(Short("stateful-gru", "ab", "bs", 1)));
        Assert.Equal("corpus_text", await RefusedField(new StartJobRequest { ModelName = "too-short", InitFrom = "gru", CorpusText = "abcabc" }));
        Assert.Equal("hyperparameters[bs]", await RefusedField(new StartJobRequest { ModelName = "too-short", Architecture = "stateful-gru", CorpusName = "tiny", Hyperparameters = { ["bs"] = 8192 } }));
    }
}
