namespace CharRnn.Engine.Training;

/// <summary>Training blew up (NaN or infinite loss); the message says where and what to change.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
