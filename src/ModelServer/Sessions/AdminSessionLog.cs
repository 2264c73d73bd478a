using CharRnn.ModelServer.Security;

namespace CharRnn.ModelServer.Sessions;

/// <summary>
/// Logs an admin key acting on another key's session (generating from it, feeding, forking, resetting or
/// configuring it: what reads or changes that key's text): once a minute per admin and session, with the
/// method, so an admin's stream of calls on one session is one line, not one a call. Read-only calls
/// (GetSession) and CloseSession are not logged.
/// </summary>
public sealed class AdminSessionLog(TimeProvider time, ILogger<AdminSessionLog> logger)
{
    private readonly OncePerMinute<(string Admin, string Session)> _due = new(time);

    public void Acted(Caller caller, ServerSession session, string method)
    {
        if (session.Owner == caller.Name || !_due.Due((caller.Name, session.Id))) return;
        logger.LogInformation("Admin key {Admin} called {Method} on session {Session} of key {Owner} (model {Model}) (more calls of this admin on this session within a minute are not logged)",
            caller.Name, method, session.Id, session.Owner, session.Model.Name);
    }
}
