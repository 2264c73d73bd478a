using CharRnn.Engine.Training;
using CharRnn.Protos.V1;
using CharRnn.Tui.Client;

namespace CharRnn.Tui.Tests;

public class JobReasonTextTests
{
    [Theory]
    [InlineData("reached max_steps = 3", "finished: reached max_steps=3")]
    [InlineData("finished 2 epoch(s) (epochs = 2) at step 90, before max_steps = 100: ask for more epochs to train that far",
        "finished 2 epoch(s) (epochs=2) at step 90, before max_steps=100: ask for more epochs to train that far")]
    [InlineData("learning_rate = [0, 1e-3, 1e-3] and weight_decay = 0.01.", "finished: lr=0,1e-3,1e-3 and wd=0.01.")]
    // A field the REPL has no key for (time_budget's takes a duration; a later server's) stays as the server wrote it.
    [InlineData("time_budget_seconds = 30 and later_field = 2", "finished: time_budget_seconds = 30 and later_field = 2")]
    [InlineData("stopped early: validation loss has not improved on 1.4321 (epoch 3) by more than 0.01 for 2 epochs (patience = 2, min_delta = 0.01)",
        "stopped early: validation loss has not improved on 1.4321 (epoch 3) by more than 0.01 for 2 epochs (patience=2, min_delta=0.01)")]
    public void A_jobs_end_names_the_settings_in_its_reason_as_the_repls_keys_are_typed(string reason, string said)
    {
        Assert.Equal(said, JobEndText.Of(new JobEvent { Finished = new JobEvent.Types.Finished { Reason = reason } }));
    }
}

public class CommandLineReasonTextTests
{
    [Theory]
    [InlineData(TrainingOutcomeKind.Finished, "reached max_steps = 3", "finished: reached --max-steps 3; checkpoint m/last.ckpt")]
    [InlineData(TrainingOutcomeKind.Finished, "finished 2 epoch(s) (epochs = 2) at step 90, before max_steps = 100: ask for more epochs to train that far",
        "finished 2 epoch(s) (--epochs 2) at step 90, before --max-steps 100: ask for more epochs to train that far; checkpoint m/last.ckpt")]
    [InlineData(TrainingOutcomeKind.Stopped, "learning_rate = [0, 1e-3, 1e-3] and weight_decay = 0.01.", "stopped: --lr 0,1e-3,1e-3 and --wd 0.01.; checkpoint m/last.ckpt")]
    [InlineData(TrainingOutcomeKind.Finished, "stopped early: validation loss has not improved on 1.4321 (epoch 3) by more than 0.01 for 2 epochs (patience = 2, min_delta = 0.01)",
        "stopped early: validation loss has not improved on 1.4321 (epoch 3) by more than 0.01 for 2 epochs (--patience 2, --min-delta 0.01); checkpoint m/last.ckpt")]
    public void A_headless_runs_end_names_the_settings_in_its_reason_as_the_flags_are_typed(TrainingOutcomeKind kind, string reason, string said)
    {
        var output = new StringWriter();
        using (var console = new CharRnn.Tui.Cli.TrainingConsole(output, live: false, errors: output))
            console.Report(new TrainingOutcome(kind, reason, "m/last.ckpt", null));
        Assert.Equal(said, output.ToString().TrimEnd('\n'));
    }
}
