namespace CharRnn.Engine.Text;

/// <summary>
/// The fast.ai lesson's own names for what this project names otherwise: its model classes (CharSeqStatefulLSTM) for the
/// architectures, and its cs for the window length. A learner who types the lesson's name is told this project's, where
/// a did-you-mean would guess wrong (cs is a letter off bs, the batch size) or not at all (no class name is close).
/// </summary>
public static class LessonNames
{
    private static readonly (string Lesson, string Here)[] Classes =
    [
        ("Char3Model", "char3"), ("CharLoopModel", "loop"), ("CharLoopConcatModel", "loop-concat"), ("CharRnn", "rnn"),
        ("CharSeqRnn", "seq-rnn"), ("CharSeqStatefulRnn", "stateful-rnn"), ("CharSeqStatefulRnn2", "stateful-rnn-cell"),
        ("CharSeqStatefulGRU", "stateful-gru"), ("GRUCell", "stateful-gru-cell"), ("CharSeqStatefulLSTM", "stateful-lstm"),
    ];

    /// <summary>
    /// " The lesson's CharSeqStatefulLSTM is stateful-lstm here." where <paramref name="typed"/> is one of the lesson's
    /// model classes (in any case), else "".
    /// </summary>
    public static string ArchitectureNote(string typed) =>
        Classes.FirstOrDefault(c => c.Lesson.Equals(typed.Trim(), StringComparison.OrdinalIgnoreCase)) is { Lesson: not null } c
            ? $" The lesson's {c.Lesson} is {c.Here} here."
            : "";

    /// <summary>
    /// " The lesson's CharSeqStatefulRnn2." for this project's <paramref name="architecture"/>, else "": archs and arch
    /// end its summary with it, so that a learner with the notebook open finds the model by the name the notebook gives it.
    /// </summary>
    public static string ClassNote(string architecture) => ClassOf(architecture) is { } lesson ? $" The lesson's {lesson}." : "";

    /// <summary>The lesson's class for this project's <paramref name="architecture"/> (CharSeqStatefulRnn2), else null.</summary>
    public static string? ClassOf(string architecture) => Classes.FirstOrDefault(c => c.Here == architecture).Lesson;

    /// <summary>The lesson's note on <paramref name="typed"/>, else the one of <paramref name="names"/> it probably was.</summary>
    public static string ArchitectureHint(string typed, IEnumerable<string> names) =>
        ArchitectureNote(typed) is { Length: > 0 } note ? note : ClosestName.Suggestion(typed, names);

    /// <summary>
    /// " The lesson's cs is context here (…)." where <paramref name="typed"/> is the lesson's cs, written as the caller
    /// writes a name (<paramref name="asTyped"/>: "--" before a flag, nothing before a REPL key), else "".
    /// </summary>
    public static string HyperParameterNote(string typed, Func<string, string> asTyped) =>
        asTyped("cs").Equals(typed.Trim(), StringComparison.OrdinalIgnoreCase)
            ? $" The lesson's cs is {asTyped("context")} here (a windowed model's window; a stateful one reads {asTyped("bptt")} characters a step)."
            : "";
}
