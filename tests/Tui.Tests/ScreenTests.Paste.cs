using Terminal.Gui.App;

namespace CharRnn.Tui.Tests;

/// <summary>A terminal's paste (bracketed: Terminal.Gui's paste event) at the command line and in the screens' fields.</summary>
public sealed partial class ScreenTests
{
    private void Paste(string text) => Ui(() => _app.RaisePasteEvent(text));

    [Fact]
    public void A_paste_goes_into_the_command_line_and_its_lines_become_commands_that_run_on_enter()
    {
        Paste("models");
        Assert.Equal("models", _window.Repl.Input.Text);
        Press(Terminal.Gui.Input.Key.U.WithCtrl);

        Paste("models\r\n\n  help quit\n");
        Assert.Equal("models; help quit", _window.Repl.Input.Text);
        PumpUntil(() => true, "a frame");
        Assert.DoesNotContain("> models", _window.Repl.Log.Content); // a paste runs nothing by itself
        Press(Terminal.Gui.Input.Key.Enter);
        PumpUntil(() => _window.Repl.Log.Content.Contains("Leave charrnn"), "help quit's text");
        Assert.Contains("> models; help quit", _window.Repl.Log.Content);

        // Ctrl+V pastes Terminal.Gui's clipboard (xclip's, where there is one) the same way.
        Ui(() => _app.Clipboard!.SetClipboardData("status\nmodels"));
        Press(Terminal.Gui.Input.Key.V.WithCtrl);
        Assert.Equal("status; models", _window.Repl.Input.Text);
    }

    [Fact]
    public void A_paste_inside_an_open_double_quote_is_the_primes_whole_text_with_its_line_breaks()
    {
        UseGru();
        Type("gen 5 \"");
        Paste("the cat\nsat \"on\"\n");
        Assert.Equal("gen 5 \"the cat\\nsat \\\"on\\\"\\n", _window.Repl.Input.Text);
        Type("\"");
        Press(Terminal.Gui.Input.Key.Enter);
        // The whole text reached the model, line breaks and all: this one's vocabulary has no line feed.
        PumpUntil(() => _window.Repl.Log.Content.Contains("U+000A"), "the prime's refusal");
        Assert.DoesNotContain("Unclosed", _window.Repl.Log.Content);
    }

    [Fact]
    public void A_paste_where_no_field_takes_it_goes_to_the_command_line_as_typing_does()
    {
        Ui(() => _window.Show(_window.Training)); // its charts take no text
        Assert.IsNotType<Views.ShellTextField>(_window.MostFocused);
        Paste("stop gru");
        Assert.True(_window.Repl.Input.HasFocus);
        Assert.Equal("stop gru", _window.Repl.Input.Text);
    }

    [Fact]
    public void A_paste_while_a_dialog_is_over_the_window_is_not_typed_into_the_command_line_behind_it()
    {
        using var dialog = new Terminal.Gui.Views.Dialog { Title = "over the window" };
        SessionToken? over = null;
        Ui(() => over = _app.Begin(dialog));
        Paste("models");
        Ui(() => _app.End(over!));
        Assert.Equal("", _window.Repl.Input.Text);
    }

    [Fact]
    public void A_paste_into_the_prime_field_is_the_prime_as_copied_its_line_breaks_too()
    {
        UseGru();
        var prime = _window.Generate.PrimeField;
        Ui(() => _window.Show(_window.Generate));
        Ui(() => prime.SetFocus());
        PumpUntil(() => prime.HasFocus, "the prime field to have the keyboard", 2_000);
        Paste("the c\r\nat\n"); // replaces the selected text, as typing does
        Assert.Equal("the c\\nat\\n", prime.Text); // as a gen's prime of several lines shows
        Ui(() => prime.InvokeCommand(Terminal.Gui.Input.Command.Accept));
        // The whole prime ran (the test model's vocabulary has no line feed: the server refuses it for that).
        PumpUntil(() => _window.Repl.Log.Content.Contains(" \"the c\\nat\\n\""), "the prime field's gen with the whole prime");
        // A backslash pasted is one: the field reads \n as a line break, so it goes in as \\.
        Press(Terminal.Gui.Input.Key.U.WithCtrl);
        Paste("a\\nb");
        Assert.Equal("a\\\\nb", prime.Text);
        Assert.Equal("a\\nb", CharRnn.Tui.Repl.BackslashEscapes.Unescape(prime.Text));
    }

    [Fact]
    public void A_one_line_field_takes_a_pasted_lines_text_without_its_line_breaks_and_refuses_several_lines()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.Field("n_hidden") != null, "the hyperparameter form");
        var field = _window.Models.Field("n_hidden")!;
        Ui(() => field.SetFocus());
        PumpUntil(() => field.HasFocus, "the n_hidden field to have the keyboard", 2_000);
        Press(Terminal.Gui.Input.Key.End);
        Press(Terminal.Gui.Input.Key.U.WithCtrl);
        Paste("\r\n128\r\n\n"); // a line copied with the breaks around it
        Assert.Equal("128", field.Text);
        Press(Terminal.Gui.Input.Key.U.WithCtrl);
        Paste("64\n128\n");
        Assert.Equal("", field.Text); // not the first line alone, unsaid
        Assert.Contains("error: a field takes one line, and the paste has 2: nothing went in. Paste one line;", _window.Repl.Log.Content.ReplaceLineEndings(" "));
        Assert.Same(field, _window.Models.Field("n_hidden"));
    }
}
