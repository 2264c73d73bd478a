using CharRnn.Protos.V1;
using CharRnn.Tui.Cli;

namespace CharRnn.Tui.Repl;

/// <summary>The REPL's sessions command: the open sessions the key may use, and closing one by id.</summary>
public sealed partial class CommandRunner
{
    private async Task Sessions(Command c, CancellationToken ct)
    {
        switch (c.Arg(0))
        {
            case null:
                var sessions = (await client.Generation.ListSessionsAsync(new ListSessionsRequest(), cancellationToken: ct)).Sessions;
                if (sessions.Count == 0) { output.Line("No open sessions."); return; }
                foreach (var line in SessionsTable(sessions, DateTimeOffset.UtcNow, Session?.Id, HeldElsewhere)) output.Line(line);
                return;
            case "close":
                var id = c.Arg(1) ?? throw new CommandException("Which session? sessions close ID (sessions lists them).");
                // This REPL's own: closed under it, its next gen would fail; use, back and quit close them.
                if (Session?.Id == id || _forks.Any(f => f.Id == id))
                    throw new CommandException($"Session '{id}' is {(Session?.Id == id ? "the one in use here" : "one this REPL returns to with back")}; " +
                                               "use another model, back or quit to close it.");
                await client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = id }, cancellationToken: ct);
                output.Line($"session {id} closed");
                return;
            default:
                throw new CommandException($"sessions takes nothing, or close ID; '{c.Arg(0)}' is neither (usage: {CommandCatalog.Find("sessions")!.Usage}).");
        }
    }

    /// <summary>
    /// The sessions, a row each, each column as wide as its widest value (as the jobs table). The owner is always
    /// shown: an admin's list of one other key's sessions must not read as its own.
    /// </summary>
    /// <param name="heldElsewhere">Who else in this program holds a session, by id (the TUI's Type and Beat tabs), or null.</param>
    internal static IEnumerable<string> SessionsTable(IReadOnlyList<Session> sessions, DateTimeOffset now, string? inUse,
        Func<string, string?>? heldElsewhere = null)
    {
        var rows = sessions.Select(s => (string[])
        [
            s.Id, s.ModelName, s.Owner, $"{s.CharactersSeen:N0}",
            s.Created.ToDateTimeOffset().ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
            Durations.Format(IdleFor(s, now)),
            Durations.Format(TimeSpan.FromSeconds(s.IdleSecondsLeft)) + (s.Id == inUse ? "  (in use here)" : heldElsewhere?.Invoke(s.Id) is { } holder ? $"  ({holder})" : ""),
        ]).Prepend(["ID", "MODEL", "OWNER", "CHARS", "OPENED", "IDLE", "EXPIRES IN"]).ToList();
        var padded = rows[0].Length - 1; // the last column is not padded
        var widths = Enumerable.Range(0, padded).Select(c => rows.Max(r => r[c].Length)).ToList();
        return rows.Select(r => string.Join("  ", r.Select((cell, c) => c < padded ? (c == 3 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c])) : cell)).TrimEnd());
    }

    /// <summary>
    /// How long the session has been idle, by the server's own count (its timeout less the time left): last_used is the
    /// server's wall clock, and this machine's may be minutes off it. Once none is left, at least the timeout.
    /// </summary>
    private static TimeSpan IdleFor(Session s, DateTimeOffset now) =>
        TimeSpan.FromSeconds(s.IdleSecondsLeft > 0 ? s.IdleTimeoutSeconds - s.IdleSecondsLeft
            : Math.Max(s.IdleTimeoutSeconds, Math.Round((now - s.LastUsed.ToDateTimeOffset()).TotalSeconds)));
}
