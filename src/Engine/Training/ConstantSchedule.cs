namespace CharRnn.Engine.Training;

public sealed class ConstantSchedule : LearningRateSchedule
{
    public override double Factor(double epochs) => 1.0;
    public override string ToString() => "constant";
}
