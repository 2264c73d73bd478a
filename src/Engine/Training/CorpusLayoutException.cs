namespace CharRnn.Engine.Training;

/// <summary>
/// A corpus that cannot be batched for a model's layout (too short for its streams or windows, or too many windows for
/// one array). <see cref="Setting"/> is the hyperparameter the message offers to change first (bs, context), or null
/// where only the corpus (or the validation share) can change: a server names it as the request field at fault.
/// </summary>
public sealed class CorpusLayoutException(string message, string? setting) : ArgumentException(message)
{
    public string? Setting { get; } = setting;
}
