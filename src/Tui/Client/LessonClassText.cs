using CharRnn.Engine.Text;
using CharRnn.Protos.V1;

namespace CharRnn.Tui.Client;

/// <summary>
/// " The lesson's CharSeqStatefulRnn2." after an architecture's summary, from the class the server names for it
/// (Architecture.lesson_class), so that a learner with the notebook open finds the model by the notebook's name. Read
/// from the server, not the client's own table: a newer or older server's architectures are its own; one that names
/// none (an older server, or an architecture the lesson has no class of its own for) gets no note, not a guess.
/// </summary>
public static class LessonClassText
{
    public static string Note(Architecture architecture) =>
        architecture.LessonClass is { Length: > 0 } lesson ? $" The lesson's {lesson}." : "";

    /// <summary>
    /// The refusal of <paramref name="typed"/>, no architecture of the server's: its names, then the one whose lesson class
    /// was typed (CharSeqStatefulLSTM, in any case) as the server names them, else the name it probably was.
    /// </summary>
    public static string Unknown(string typed, IReadOnlyCollection<Architecture> architectures)
    {
        var names = architectures.Select(a => a.Name).ToList();
        var hint = architectures.FirstOrDefault(a => a.LessonClass.Length > 0 && a.LessonClass.Equals(typed.Trim(), StringComparison.OrdinalIgnoreCase)) is { } lesson
            ? $" The lesson's {lesson.LessonClass} is {lesson.Name} here."
            : ClosestName.Suggestion(typed, names);
        return $"No architecture '{typed}'. Known: {string.Join(", ", names)}.{hint}";
    }
}
