namespace CharRnn.Tui.Views;

/// <summary>
/// A row of figures ("loss 2.250 · val 2.394 · …") narrowed to a width by leaving out whole figures, the least important
/// first, so that none is cut mid-word ("… · 112" for "112,465 chars/s") and the row keeps its one row.
/// </summary>
internal static class FiguresLine
{
    private const string Separator = " · ";

    /// <summary>
    /// The figures in their order, joined, without those of highest <c>Rank</c> (least important) while the row is wider
    /// than <paramref name="width"/>; the most important one stays even when it alone is wider.
    /// </summary>
    public static string Fit(IReadOnlyList<(string Text, int Rank)> figures, int width)
    {
        var kept = figures.ToList();
        while (kept.Count > 1 && Join(kept).Length > width)
            kept.Remove(kept.MaxBy(f => f.Rank));
        return Join(kept);
    }

    private static string Join(IEnumerable<(string Text, int Rank)> figures) => string.Join(Separator, figures.Select(f => f.Text));
}
