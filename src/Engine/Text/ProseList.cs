namespace CharRnn.Engine.Text;

/// <summary>A list as a sentence writes it: "a", "a or b", "a, b or c" — for messages that name several things.</summary>
public static class ProseList
{
    /// <param name="items">The things to name, in order; none gives "".</param>
    /// <param name="conjunction">The word before the last: "or", "and".</param>
    public static string Of(IReadOnlyList<string> items, string conjunction) => items.Count switch
    {
        0 => "",
        1 => items[0],
        _ => $"{string.Join(", ", items.Take(items.Count - 1))} {conjunction} {items[^1]}",
    };
}
