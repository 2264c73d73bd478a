namespace CharRnn.Engine.Training;

/// <summary>A setting that a <see cref="TrainingWarning"/> names; each caller spells it its own way (<see cref="TrainingSettingNames"/>).</summary>
public enum TrainingSetting
{
    Epochs,
    Patience,
    LearningRate,
}
