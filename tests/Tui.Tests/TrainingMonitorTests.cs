using CharRnn.Protos.V1;
using CharRnn.Tui.ViewModels;

namespace CharRnn.Tui.Tests;

public class TrainingMonitorTests
{
    private static JobEvent Progress(long step, double loss, double lr) => new()
    {
        JobId = "j-1", Step = step,
        Progress = new JobEvent.Types.Progress { Step = step, Loss = loss, LearningRate = lr, TotalSteps = 100, CharsPerSecond = 5000, EtaSeconds = 10, EpochProgress = step / 50.0 },
    };

    [Fact]
    public void Events_build_the_curves_progress_and_samples()
    {
        var m = new TrainingMonitor();
        m.Attach(new Job { Id = "j-1", ModelName = "lstm", State = Job.Types.State.Queued });
        var before = m.Version;
        m.Add(new JobEvent { JobId = "j-1", Started = new JobEvent.Types.Started { TotalSteps = 100, Device = "cpu" } });
        m.Add(Progress(10, 3.0, 1e-2));
        m.Add(Progress(20, 2.5, 5e-3));
        m.Add(new JobEvent { JobId = "j-1", Step = 50, EpochEnd = new JobEvent.Types.EpochEnd { Record = new EpochRecord { Epoch = 1, Step = 50, TrainLoss = 2.4, ValidLoss = 2.2, LearningRate = 5e-3, Sample = "the cat" } } });
        Assert.True(m.Version > before);
        Assert.Equal([(10.0, 3.0), (20.0, 2.5), (50.0, 2.4)], m.Loss); // the epoch's end is a point too
        Assert.Equal([(10.0, 1e-2), (20.0, 5e-3), (50.0, 5e-3)], m.LearningRates);
        Assert.Equal([(50.0, 2.2)], m.ValidLoss);
        Assert.Equal(0.5, m.Fraction);
        Assert.Equal(2.2, m.LastValidLoss);
        Assert.Equal(["epoch 1 (val 2.200): the cat"], m.Samples);
        m.Add(new JobEvent { JobId = "j-1", Step = 100, Finished = new JobEvent.Types.Finished { Reason = "finished 2 epoch(s)" } });
        Assert.Equal("finished 2 epoch(s)", m.State); // the reason says it: not "finished: finished …"
    }

    [Fact]
    public void A_replay_with_sparse_progress_takes_the_epoch_loss_rate_and_position_from_each_epochs_end()
    {
        var m = new TrainingMonitor();
        m.Attach(new Job { Id = "j-1", ModelName = "lstm", State = Job.Types.State.Finished });
        m.Add(new JobEvent { JobId = "j-1", Started = new JobEvent.Types.Started { TotalSteps = 150, Device = "cpu" } });
        m.Add(Progress(10, 3.3, 1e-3)); // the one a server kept of a fast run
        foreach (var epoch in new[] { 1, 2, 3 })
            m.Add(new JobEvent { JobId = "j-1", Step = 50 * epoch, EpochEnd = new JobEvent.Types.EpochEnd { Record = new EpochRecord { Epoch = epoch, Step = 50 * epoch, TrainLoss = 3.0 - epoch / 2.0, ValidLoss = 2.9 - epoch / 2.0, LearningRate = 1e-3 } } });
        Assert.Equal([10.0, 50, 100, 150], m.Loss.Select(p => p.Step));
        Assert.Equal(1.5, m.LastLoss);
        Assert.Equal(3, m.EpochProgress);
        Assert.Equal(4, m.LearningRates.Count);
    }

    [Theory]
    [InlineData(true)]  // the last progress came at its epoch's end
    [InlineData(false)] // a replay that kept none: the epoch ends alone say how long an epoch is
    public void A_stop_after_the_last_progress_shows_the_epoch_its_step_is_in(bool progress)
    {
        var m = new TrainingMonitor();
        m.Attach(new Job { Id = "j-1", ModelName = "lstm", State = Job.Types.State.Running });
        foreach (var epoch in new[] { 1, 2, 3, 4, 5 })
            m.Add(new JobEvent { JobId = "j-1", Step = 250 * epoch, EpochEnd = new JobEvent.Types.EpochEnd { Record = new EpochRecord { Epoch = epoch, Step = 250 * epoch, ValidLoss = 2.0 } } });
        if (progress)
            m.Add(new JobEvent { JobId = "j-1", Step = 1250, Progress = new JobEvent.Types.Progress { Step = 1250, Epoch = 5, Batch = 250, BatchesInEpoch = 250, EpochProgress = 5.0, TotalSteps = 5000 } });
        m.Add(new JobEvent { JobId = "j-1", Step = 1426, Stopped = new JobEvent.Types.Stopped { Reason = "stopped on request" } });
        Assert.Equal(1426, m.Step);
        Assert.Equal(5.704, m.EpochProgress, 3); // step 1426 is 176 of 250 steps into epoch 6, not 'epoch 5.00'
    }

    [Fact]
    public void An_epoch_shown_by_its_steps_stays_short_of_the_next_epochs_end()
    {
        var m = new TrainingMonitor();
        m.Attach(new Job { Id = "j-1", ModelName = "lstm", State = Job.Types.State.Running });
        // Epochs of random bptt vary in length: this one ran past the last one's count without ending.
        m.Add(new JobEvent { JobId = "j-1", Step = 1490, Progress = new JobEvent.Types.Progress { Step = 1490, Epoch = 6, Batch = 240, BatchesInEpoch = 250, EpochProgress = 5.96, TotalSteps = 5000 } });
        m.Add(new JobEvent { JobId = "j-1", Step = 1510, Stopped = new JobEvent.Types.Stopped { Reason = "stopped on request" } });
        Assert.Equal(5.99, m.EpochProgress, 6);
    }

    [Fact]
    public void A_stop_that_says_where_the_model_stands_shows_that_epoch_not_an_estimate()
    {
        var m = new TrainingMonitor();
        m.Attach(new Job { Id = "j-1", ModelName = "lstm", State = Job.Types.State.Running });
        m.Add(new JobEvent { JobId = "j-1", Step = 1490, Progress = new JobEvent.Types.Progress { Step = 1490, Epoch = 6, Batch = 240, BatchesInEpoch = 250, EpochProgress = 5.96, TotalSteps = 5000 } });
        // The sixth epoch (random bptt) ended at 1498, and the stop came 12 of 240 steps into the seventh: the estimate said 5.99.
        m.Add(new JobEvent { JobId = "j-1", Step = 1510, Stopped = new JobEvent.Types.Stopped { Reason = "stopped on request", EpochsCompleted = 6, StepsIntoEpoch = 12, BatchesInEpoch = 240 } });
        Assert.Equal(6.05, m.EpochProgress, 6);
    }

    [Fact]
    public void A_job_ended_between_epoch_ends_shows_its_last_weights_validation_loss_on_the_curve_and_in_its_end()
    {
        var m = new TrainingMonitor();
        m.Attach(new Job { Id = "j-1", ModelName = "lstm", State = Job.Types.State.Running });
        m.Add(new JobEvent { JobId = "j-1", Step = 50, EpochEnd = new JobEvent.Types.EpochEnd { Record = new EpochRecord { Epoch = 1, Step = 50, ValidLoss = 2.2 } } });
        m.Add(Progress(70, 2.0, 1e-2));
        m.Add(new JobEvent { JobId = "j-1", Step = 70, Stopped = new JobEvent.Types.Stopped { Reason = "time budget of 1m00s reached", CheckpointSaved = true, FinalValidLoss = 2.05, FinalValidAccuracy = 0.4 } });
        Assert.Equal("stopped: time budget of 1m00s reached · val 2.0500 nats/char, accuracy 40.0 %", m.State);
        Assert.Equal([(50.0, 2.2), (70.0, 2.05)], m.ValidLoss);
        Assert.Equal(2.05, m.LastValidLoss);
    }

    [Fact]
    public void An_attach_does_not_show_the_models_best_validation_loss_as_the_jobs_latest()
    {
        var m = new TrainingMonitor();
        // A resume: the model's best (1.9, from epochs before it) is lower than anything this job measured.
        m.Attach(new Job { Id = "j-1", ModelName = "lstm", State = Job.Types.State.Running, Step = 60, BestValidLoss = 1.9 });
        Assert.True(double.IsNaN(m.LastValidLoss)); // shown as 'val -' until an epoch's end gives the job's own
        m.Add(new JobEvent { JobId = "j-1", Step = 75, EpochEnd = new JobEvent.Types.EpochEnd { Record = new EpochRecord { Epoch = 3, Step = 75, ValidLoss = 2.1 } } });
        Assert.Equal(2.1, m.LastValidLoss);
    }

    [Fact]
    public void A_job_resumed_after_a_restart_redraws_its_curve_from_the_checkpoint_on()
    {
        var m = new TrainingMonitor();
        m.Attach(new Job { Id = "j-1", ModelName = "lstm", State = Job.Types.State.Running });
        // The history from before the restart: trained to step 30, checkpointed at 20.
        m.Add(new JobEvent { JobId = "j-1", Started = new JobEvent.Types.Started { TotalSteps = 100 } });
        m.Add(Progress(10, 3.0, 1e-2));
        m.Add(Progress(20, 2.5, 1e-2));
        m.Add(Progress(30, 2.4, 1e-2));
        m.Add(new JobEvent { JobId = "j-1", Step = 25, EpochEnd = new JobEvent.Types.EpochEnd { Record = new EpochRecord { Epoch = 1, Step = 25, ValidLoss = 2.45, Sample = "the cat" } } });
        Assert.Equal(2.45, m.LastValidLoss);
        m.Add(new JobEvent { JobId = "j-1", Step = 20, Started = new JobEvent.Types.Started { TotalSteps = 100, ResumedFromStep = 20 } });
        Assert.Equal([(10.0, 3.0), (20.0, 2.5)], m.Loss);
        // The epoch that ended past the checkpoint is trained again: its validation and sample go too.
        Assert.Empty(m.ValidLoss);
        Assert.Empty(m.Samples);
        Assert.True(double.IsNaN(m.LastValidLoss));
        m.Add(Progress(30, 2.3, 1e-2));
        Assert.Equal([(10.0, 3.0), (20.0, 2.5), (30.0, 2.3)], m.Loss);
        Assert.Equal([10.0, 20.0, 30.0], m.LearningRates.Select(p => p.Step));
        m.Add(new JobEvent { JobId = "j-1", Started = new JobEvent.Types.Started { TotalSteps = 100 } }); // killed before any checkpoint: from step 0
        Assert.Empty(m.Loss);
        Assert.Equal(0, m.Step);
    }

    [Fact]
    public void Events_of_another_job_are_ignored_and_attaching_starts_over()
    {
        var m = new TrainingMonitor();
        m.Attach(new Job { Id = "j-1" });
        m.Add(Progress(10, 3.0, 1e-2));
        m.Attach(new Job { Id = "j-2" });
        Assert.Empty(m.Loss);
        m.Add(Progress(20, 2.0, 1e-2)); // late event of j-1
        Assert.Empty(m.Loss);
    }

    [Fact]
    public void A_new_job_shows_none_of_the_last_ones_figures_and_an_ended_one_no_live_speed()
    {
        var m = new TrainingMonitor();
        m.Attach(new Job { Id = "j-1" });
        m.Add(Progress(40, 2.0, 1e-2));
        m.Add(new JobEvent { JobId = "j-1", Step = 50, EpochEnd = new JobEvent.Types.EpochEnd { Record = new EpochRecord { Epoch = 1, Step = 50, ValidLoss = 2.2, Sample = "the cat" } } });
        m.Add(new JobEvent { JobId = "j-1", Step = 50, Stopped = new JobEvent.Types.Stopped { Reason = "stopped by key" } });
        Assert.Equal((null, 0.0), (m.EtaSeconds, m.CharsPerSecond)); // stopped: no time left, no speed
        var restarted = m.SamplesRestarted;

        m.Attach(new Job { Id = "j-2", State = Job.Types.State.Queued });
        Assert.Equal((0, 0.0, 0.0, ""), (m.Epoch, m.EpochProgress, m.LearningRate, m.Device));
        Assert.NotEqual(restarted, m.SamplesRestarted); // a view shows j-2's samples from the first, even if as many arrive at once
    }

    [Fact]
    public void Curves_keep_a_bounded_number_of_points_from_the_start_of_training_to_the_latest()
    {
        var m = new TrainingMonitor();
        m.Attach(new Job { Id = "j-1" });
        for (int i = 0; i < 3 * TrainingMonitor.MaxPoints; i++) m.Add(Progress(i, 1, 1));
        Assert.InRange(m.Loss.Count, TrainingMonitor.MaxPoints / 2, TrainingMonitor.MaxPoints);
        Assert.Equal(0, m.Loss[0].Step); // thinned, not cut: the start of the curve stays on the chart
        Assert.Equal(3 * TrainingMonitor.MaxPoints - 1, m.Loss[^1].Step);
        Assert.Equal(m.Loss.Select(p => p.Step).Order(), m.Loss.Select(p => p.Step)); // in order, each once
        Assert.Equal(m.Loss.Count, m.Loss.Select(p => p.Step).Distinct().Count());
    }
}
