using System.Text;

namespace CharRnn.Tui.Views;

internal static class HotKeys
{
    /// <summary>
    /// A hotkey specifier no text contains: labels and titles that show names or hints ('_' in
    /// "n_hidden", in a model's name) must not turn a letter into a hotkey, which Terminal.Gui
    /// would fire from any tab.
    /// </summary>
    public static readonly Rune None = new('\uffff');
}
