using System.Globalization;
using CharRnn.Protos.V1;
using CharRnn.Tui.Client;

namespace CharRnn.Tui.Repl;

/// <summary>`charrnn --exec`: results as plain lines on stdout (errors on stderr), generated text streamed as it comes.</summary>
public sealed class ConsoleReplOutput(TextWriter stdout, TextWriter stderr) : IReplOutput
{
    private DateTime _lastProgress = DateTime.MinValue;
    // Streams into other panes (compare) run concurrently: buffer them and print whole when done.
    private readonly Dictionary<int, System.Text.StringBuilder> _panes = [];
    private readonly HashSet<int> _ended = [];
    private readonly HashSet<int> _generated = []; // panes that got a char: the others print nothing
    private string? _mainHeader; // the main pane's label and prime, written with its first char
    private bool _mainEnded;

    public bool Failed { get; private set; }
    public bool Quit { get; private set; }

    public void Line(string text) => stdout.WriteLine(text);

    /// <summary>Something to know that is not the line's output, on stderr: stdout stays what the commands print.</summary>
    public void Note(string text)
    {
        stdout.Flush();
        stderr.WriteLine("note: " + text);
    }

    /// <summary>A warning on stderr, so that a script reading a table on stdout gets its rows alone.</summary>
    public void Warning(string text)
    {
        stdout.Flush();
        stderr.WriteLine("warning: " + text);
    }

    public void Error(string text)
    {
        if (stdout is Cli.ClosedPipeWriter { Closed: true }) return; // the reader left: what stops now is not an error
        Failed = true;
        stdout.Flush();
        stderr.WriteLine("error: " + text);
    }

    public void GenerationStarted(int pane, string label, string prime, int count)
    {
        lock (_panes)
        {
            _generated.Remove(pane);
            if (pane > 0) { _panes[pane] = new System.Text.StringBuilder($"--- {label}\n{prime}"); return; }
            _mainEnded = false;
            _mainHeader = $"--- {label}\n{prime}";
        }
    }

    public void Generated(int pane, string text, float probability)
    {
        lock (_panes)
        {
            _generated.Add(pane);
            if (pane > 0) { _panes[pane].Append(text); return; }
            if (_mainHeader != null) { stdout.Write(_mainHeader); _mainHeader = null; }
            stdout.Write(text);
            stdout.Flush();
        }
    }

    public void GenerationEnded(int pane)
    {
        lock (_panes)
        {
            if (pane == 0)
            {
                if (_mainHeader == null) stdout.WriteLine(); // else nothing was generated, nor shown
                _mainHeader = null;
                _mainEnded = true;
            }
            else _ended.Add(pane);
            if (!_mainEnded) return; // the main pane streams live; the others print after it
            foreach (var p in _ended.Order())
            {
                if (_generated.Contains(p)) stdout.WriteLine(_panes[p].ToString());
                _panes.Remove(p);
            }
            _ended.Clear();
            if (_panes.Count == 0) _mainEnded = false;
        }
    }

    public void JobAttached(Job job) => stdout.WriteLine($"watching job {job.Id} ({job.ModelName}{(job.InitFrom != "" ? $", from {job.InitFrom}" : "")})");

    public void JobDetached() { } // the runner says so in a line

    public void JobEvent(JobEvent e)
    {
        switch (e.EventCase)
        {
            case Protos.V1.JobEvent.EventOneofCase.Started:
                var resumed = e.Started.ResumedFromStep > 0 ? $", resumed from step {e.Started.ResumedFromStep}" : "";
                var from = e.Started.InitFrom != "" ? $", from {e.Started.InitFrom}'s weights" : "";
                // Not its warnings (JobEvent.Started.warnings): train and resume showed StartJob's, in the REPL's keys.
                stdout.WriteLine($"started on {e.Started.Device}: {e.Started.ParameterCount:N0} parameters, {e.Started.TotalSteps} steps{resumed}{from}");
                break;
            case Protos.V1.JobEvent.EventOneofCase.Progress when DateTime.UtcNow - _lastProgress > TimeSpan.FromSeconds(5):
                _lastProgress = DateTime.UtcNow;
                var p = e.Progress;
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {p.Step}/{p.TotalSteps} epoch {p.EpochProgress:F2} loss {p.Loss:F3} lr {p.LearningRate:0.0e+0} {p.CharsPerSecond:N0} chars/s"));
                break;
            case Protos.V1.JobEvent.EventOneofCase.EpochEnd:
                var r = e.EpochEnd.Record;
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {r.Epoch}: train {r.TrainLoss:F4} val {r.ValidLoss:F4} nats/char, accuracy {r.ValidAccuracy:P1}"));
                if (r.Sample.Length > 0) stdout.WriteLine("  sample: " + r.Sample.Replace("\n", " ", StringComparison.Ordinal));
                break;
            case Protos.V1.JobEvent.EventOneofCase.Finished or Protos.V1.JobEvent.EventOneofCase.Stopped:
                stdout.WriteLine(JobEndText.Of(e));
                break;
            case Protos.V1.JobEvent.EventOneofCase.Failed:
                Error("job failed: " + JobReasonText.Of(e.Failed.Reason));
                break;
        }
    }

    public void SessionChanged(Session? session, string? how = null) { }

    public void QuitRequested() => Quit = true;
}
