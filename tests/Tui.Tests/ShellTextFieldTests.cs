namespace CharRnn.Tui.Tests;

/// <summary>ShellTextField: the command line's cursor, in text elements, as an index into its string.</summary>
public class ShellTextFieldTests
{
    [Theory]
    [InlineData("use nie", 7, 7)]
    [InlineData("use 😀; use nie", 14, 15)] // the field counts the emoji as one; the string holds two UTF-16 units
    [InlineData("use 😀; use nie", 5, 6)]
    [InlineData("e\u0301x", 1, 2)] // an accent that combines with its letter is one text element
    [InlineData("abc", 9, 3)]
    public void The_cursor_of_the_command_line_counts_text_elements_and_completion_slices_utf16(string line, int insertionPoint, int index) =>
        Assert.Equal(index, Views.ShellTextField.StringIndex(line, insertionPoint));
}
