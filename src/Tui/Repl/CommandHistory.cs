namespace CharRnn.Tui.Repl;

/// <summary>Previous command lines, walked with Up/Down like a shell (consecutive duplicates kept once).</summary>
public sealed class CommandHistory(int capacity = 500)
{
    private readonly List<string> _lines = [];
    private int _position;

    public IReadOnlyList<string> Lines => _lines;

    public void Add(string line)
    {
        if (string.IsNullOrWhiteSpace(line)) return;
        if (_lines.Count == 0 || _lines[^1] != line) _lines.Add(line);
        if (_lines.Count > capacity) _lines.RemoveAt(0);
        _position = _lines.Count;
    }

    /// <summary>The line before the current position, or null at the start.</summary>
    public string? Previous()
    {
        if (_position == 0) return _lines.Count > 0 ? _lines[0] : null;
        return _lines[--_position];
    }

    /// <summary>The line after the current position; "" past the newest.</summary>
    public string? Next()
    {
        if (_position >= _lines.Count) return null;
        _position++;
        return _position == _lines.Count ? "" : _lines[_position];
    }
}
