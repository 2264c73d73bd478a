using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.TrainedModels;

namespace CharRnn.ModelServer.Sessions;

/// <summary>
/// Frees a session's device state and its hold on the model (device thread), once. Commands that
/// were queued for the session before it closed find it marked closed and answer NOT_FOUND.
/// </summary>
public static class SessionCloser
{
    /// <param name="why">What calls still under way on the session end with (by default NOT_FOUND, "was closed").</param>
    public static void Close(ServerSession session, DeviceWorker worker, ModelStore models, Errors.ServerException? why = null)
    {
        if (!session.MarkClosed(why)) return;
        worker.Abort(session, why ?? Errors.ServerException.NotFound($"Session '{session.Id}' was closed.", Errors.ErrorReasons.SessionNotFound, ("session_id", session.Id)));
        session.Generation.Dispose();
        models.Release(session.Model);
    }
}
