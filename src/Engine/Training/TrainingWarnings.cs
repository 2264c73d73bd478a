namespace CharRnn.Engine.Training;

/// <summary>
/// Settings that train, but likely not as meant, said before a run starts: epochs that stop an SGDR cycle midway
/// (<see cref="MidCycleWarning"/>), a patience shorter than a cycle after a restart (<see cref="PatienceCycleWarning"/>),
/// every layer group's rate 0 (<see cref="ZeroRateWarning"/>). Each is said in the caller's spelling (<see cref="TrainingWarning.Say"/>). charrnn train and resume print them; the server puts them
/// in StartJob's Job for every gRPC client. Asked of the run's resolved options (a resume's: the stored ones as changed).
/// </summary>
public static class TrainingWarnings
{
    /// <param name="rateGiven">The rate was given for this run; false: a resume goes on at the model's stored one.</param>
    public static IReadOnlyList<TrainingWarning> For(TrainingOptions options, bool rateGiven = true) =>
        new[]
        {
            MidCycleWarning.For(options.Schedule, options.Epochs),
            PatienceCycleWarning.For(options.Schedule, options.Epochs, options.Patience),
            ZeroRateWarning.For(options.LearningRate, rateGiven),
        }.OfType<TrainingWarning>().ToList();
}
