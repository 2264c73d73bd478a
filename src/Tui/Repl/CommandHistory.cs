namespace CharRnn.Tui.Repl;

/// <summary>Previous command lines, walked with Up/Down like a shell (consecutive duplicates kept once).</summary>
public sealed class CommandHistory(int capacity = 500)
{
    private readonly List<string> _lines = [];
    private int _position;
    private string _draft = ""; // what was typed before walking back: Down past the newest gives it back

    public IReadOnlyList<string> Lines => _lines;

    public void Add(string line)
    {
        if (string.IsNullOrWhiteSpace(line)) return;
        if (_lines.Count == 0 || _lines[^1] != line) _lines.Add(line);
        if (_lines.Count > capacity) _lines.RemoveAt(0);
        _position = _lines.Count;
    }

    /// <summary>The line before the current position, or null at the start; <paramref name="typed"/> is kept when leaving the newest.</summary>
    public string? Previous(string typed = "")
    {
        if (_position == _lines.Count) _draft = typed;
        if (_position == 0) return _lines.Count > 0 ? _lines[0] : null;
        return _lines[--_position];
    }

    /// <summary>The line after the current position; past the newest, the line that was being typed.</summary>
    public string? Next()
    {
        if (_position >= _lines.Count) return null;
        _position++;
        return _position == _lines.Count ? _draft : _lines[_position];
    }
}
