using CharRnn.Tui.Views;

namespace CharRnn.Tui.Tests;

/// <summary>The streaming text pane's layout: wrapped rows, and a scrolled-back view that stays put as text arrives.</summary>
public class StreamTextViewTests
{
    private static List<string> Rows(StreamTextView view, int width, int height) =>
        view.VisibleRows(width, height).Select(cells => string.Concat(cells.Select(c => c.Rune.ToString()))).ToList();

    [Fact]
    public void Scrolled_back_it_keeps_showing_the_same_text_while_lines_and_a_growing_line_arrive_below()
    {
        var view = new StreamTextView();
        for (var i = 0; i < 30; i++) view.AppendLine($"line {i}");
        Assert.Equal(["line 26", "line 27", "line 28", "line 29", ""], Rows(view, 20, 5)); // the tail

        view.ScrollBy(10);
        var shown = Rows(view, 20, 5);
        Assert.Equal(["line 16", "line 17", "line 18", "line 19", "line 20"], shown);

        for (var i = 30; i < 40; i++) view.AppendLine($"line {i}");
        view.Append(new string('x', 45)); // one line wrapped over three rows, still growing
        Assert.Equal(shown, Rows(view, 20, 5));
        view.Append(new string('y', 20));
        Assert.Equal(shown, Rows(view, 20, 5));
        Assert.Equal(10 + 10 + 3, view.ScrollBack); // the rows now below it: ten lines, and three more of the long line (it took the empty last row)

        view.ScrollBy(-20); // PgDn moves from where the text is now
        Assert.Equal(["line 36", "line 37", "line 38", "line 39", new string('x', 20)], Rows(view, 20, 5));
        view.ScrollToEnd();
        Assert.Equal(new string('x', 5) + new string('y', 15), Rows(view, 20, 5)[^2]);
        view.AppendLine("");
        Assert.Equal("", Rows(view, 20, 5)[^1]); // following the tail again
    }

    [Fact]
    public void The_command_logs_wrapped_rows_start_under_the_text_after_a_lines_label()
    {
        // The log's lines lead with a label: help's command, "error:", "warning:", an echoed line's ">".
        var view = new StreamTextView { HangingIndent = true, IndentUnderSecondWord = true };
        view.AppendLine("error: No job 'x' (by id or model name). jobs lists them.");
        view.AppendLine("warning: lr=0: no weight will change at all");
        view.AppendLine("quit      Leave charrnn (jobs keep training)");
        view.AppendLine("> gen 300 the quick brown fox");
        view.AppendLine("single");
        // Indented: under the label's text where the first word is one ("  training:"), else under the line's start
        // (help COMMAND's summary read "  Leave charrnn (jobs" over "        keep training)").
        view.AppendLine("  training: 6 epoch(s), 4,312 steps");
        view.AppendLine("  Leave charrnn (jobs keep training)");
        Assert.Equal([
            "error: No job 'x' (by id or ",
            "       model name). jobs lists",
            "       them.",
            "warning: lr=0: no weight will ",
            "         change at all",
            "quit      Leave charrnn (jobs ",
            "          keep training)",
            "> gen 300 the quick brown fox",
            "single",
            "  training: 6 epoch(s), 4,312 ",
            "            steps",
            "  Leave charrnn (jobs keep ",
            "  training)",
            ""], Rows(view, 30, 14));
    }

    [Fact]
    public void Scrolled_back_past_lines_dropped_at_the_cap_it_shows_the_oldest_kept()
    {
        var view = new StreamTextView { MaxLines = 10 };
        for (var i = 0; i < 10; i++) view.AppendLine($"line {i}");
        view.ScrollBy(100);
        Assert.Equal(["line 1", "line 2", "line 3"], Rows(view, 20, 3)); // line 0 went at the cap: the empty tail line made it 11
        for (var i = 10; i < 15; i++) view.AppendLine($"line {i}");
        Assert.Equal(["line 6", "line 7", "line 8"], Rows(view, 20, 3)); // its top line was dropped: the oldest kept now
    }

    [Fact]
    public void Wide_chars_take_two_columns_and_move_whole_to_the_next_row()
    {
        var view = new StreamTextView();
        view.Append("ab中文字e");
        Assert.Equal(["ab中", "文字e"], Rows(view, 5, 2)); // 4 columns, then 5: 文 would have run past the edge
        Assert.Equal(["ab中文", "字e"], Rows(view, 6, 2));
    }

    [Fact]
    public void Lines_wrap_between_words_and_a_word_longer_than_a_row_is_cut()
    {
        var view = new StreamTextView();
        view.Append("help (F1) lists the commands");
        Assert.Equal(["help (F1) ", "lists the ", "commands"], Rows(view, 10, 3)); // "(F1)" stays whole
        Assert.Equal(["help (F1)", "lists the", "commands"], Rows(view, 9, 3)); // the space at a break is not drawn
        view.Clear();
        view.Append("ab supercalifragilistic x");
        Assert.Equal(["ab ", "supercalif", "ragilistic", "x"], Rows(view, 10, 4)); // the long word starts a row, then is cut
        view.Clear();
        view.Append("tail ");
        Assert.Equal(["tail"], Rows(view, 4, 1)); // no empty row after a break at the line's last space
    }

    [Fact]
    public void A_log_that_hides_its_empty_newest_line_shows_a_line_more_in_its_rows()
    {
        var log = new StreamTextView { HidesEmptyNewestLine = true };
        log.AppendLine("first");
        log.AppendLine("second");
        Assert.Equal(["first", "second"], Rows(log, 20, 2)); // the command log at 80x24: two rows, two lines
        log.Append("third, not ended");
        Assert.Equal(["second", "third, not ended"], Rows(log, 20, 2));
        log.ScrollBy(1);
        Assert.Equal(["first", "second"], Rows(log, 20, 2));
        var pane = new StreamTextView(); // a generation's pane: the newest line is where text streams next
        pane.AppendLine("first");
        pane.AppendLine("second");
        Assert.Equal(["second", ""], Rows(pane, 20, 2));
    }

    [Fact]
    public void Spaces_that_end_a_line_too_wide_for_the_pane_take_no_row_of_their_own()
    {
        var log = new StreamTextView { HidesEmptyNewestLine = true };
        log.AppendLine("NAME  ARCH" + new string(' ', 12)); // a table's padded header, wider than the pane
        log.AppendLine("g1    gru" + new string(' ', 13));
        Assert.Equal(["NAME  ARCH", "g1    gru"], Rows(log, 20, 2).Select(r => r.TrimEnd()).ToList());
    }
}
