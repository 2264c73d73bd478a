using CharRnn.Engine.Storage;

namespace CharRnn.Tui.Repl;

/// <summary>
/// Previous command lines, walked with Up/Down like a shell (consecutive duplicates kept once).
/// With a file, kept across runs as a shell's history is: read at start, each line appended as it
/// is added, the file cut back to its newest lines once it holds twice as many as are kept (what
/// another charrnn open meanwhile appended is among them).
/// </summary>
public sealed class CommandHistory
{
    private readonly List<string> _lines = [];
    private readonly int _capacity;
    private string? _file;
    private int _fileLines; // the file's lines as this run knows them (another run may append more)
    private int _position;
    private string _draft = ""; // what was typed before walking back: Down past the newest gives it back

    public CommandHistory(int capacity = 500, string? file = null)
    {
        _capacity = capacity;
        _file = file;
        if (file == null) return;
        try
        {
            if (File.Exists(file))
            {
                var stored = ReadLines(file);
                _fileLines = stored.Count;
                foreach (var line in stored.TakeLast(capacity))
                    if (_lines.Count == 0 || _lines[^1] != line) _lines.Add(line);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // an unreadable history starts empty
        _position = _lines.Count;
    }

    public const string FileVariable = "CHARRNN_HISTORY";

    /// <summary>Where the TUI keeps its history: $CHARRNN_HISTORY (empty: nowhere), else ~/.local/share/charrnn/history on Linux.</summary>
    public static string? DefaultFile => Environment.GetEnvironmentVariable(FileVariable) is { } set
        ? (set.Length == 0 ? null : set)
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "charrnn", "history");

    public IReadOnlyList<string> Lines => _lines;

    public void Add(string line)
    {
        if (string.IsNullOrWhiteSpace(line)) return;
        line = line.ReplaceLineEndings(" ");
        var added = _lines.Count == 0 || _lines[^1] != line;
        if (added) _lines.Add(line);
        if (_lines.Count > _capacity) _lines.RemoveAt(0);
        _position = _lines.Count;
        _draft = "";
        if (added) Save(line);
    }

    /// <summary>Appends the line; at twice the capacity, rewrites the file with its newest lines (atomically), read from the file itself.</summary>
    private void Save(string line)
    {
        if (_file == null) return;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_file))!);
            File.AppendAllText(_file, line + "\n");
            if (++_fileLines >= 2 * _capacity)
            {
                var newest = ReadLines(_file).TakeLast(_capacity).ToList();
                AtomicFile.WriteAllBytes(_file, System.Text.Encoding.UTF8.GetBytes(string.Concat(newest.Select(l => l + "\n"))));
                _fileLines = newest.Count;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _file = null; // a read-only home: history for this run only, not an error on every line
        }
    }

    private static List<string> ReadLines(string file) => File.ReadLines(file).Where(l => l.Trim().Length > 0).ToList();

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
