using System.Globalization;
using CharRnn.Protos.V1;
using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Client;

/// <summary>A job's last event as one line: how it ended and, when the server measured it, how good the model it left is.</summary>
public static class JobEndText
{
    /// <summary>
    /// "finished: reason · val 1.2345 nats/char, accuracy 61.2 %" (as an epoch's line says it), the reason in the REPL's
    /// words (<see cref="JobReasonText"/>: `max_steps=3`, not the server's `max_steps = 3`); null for an event that does not end a job.
    /// </summary>
    public static string? Of(JobEvent e) => e.EventCase switch
    {
        JobEvent.EventOneofCase.Finished => Said("finished", JobReasonText.Of(e.Finished.Reason))
            + Validation(e.Finished.HasFinalValidLoss, e.Finished.FinalValidLoss, e.Finished.FinalValidAccuracy),
        JobEvent.EventOneofCase.Stopped => Said("stopped", JobReasonText.Of(e.Stopped.Reason))
            + Validation(e.Stopped.HasFinalValidLoss, e.Stopped.FinalValidLoss, e.Stopped.FinalValidAccuracy),
        JobEvent.EventOneofCase.Failed => Said("failed", JobReasonText.Of(e.Failed.Reason)),
        _ => null,
    };

    /// <summary>The final weights' validation loss, if the event has one.</summary>
    public static double? FinalValidLoss(JobEvent e) => e.EventCase switch
    {
        JobEvent.EventOneofCase.Finished when e.Finished.HasFinalValidLoss => e.Finished.FinalValidLoss,
        JobEvent.EventOneofCase.Stopped when e.Stopped.HasFinalValidLoss => e.Stopped.FinalValidLoss,
        _ => null,
    };

    /// <summary>
    /// "finished: reached max_steps = 2", but "finished 2 epoch(s)" and "stopped on request", not "finished: finished …";
    /// and a run its patience ended, finished as it is, says "stopped early: …" alone.
    /// </summary>
    internal static string Said(string state, string reason) =>
        reason.StartsWith(state + " ", StringComparison.OrdinalIgnoreCase) || reason.StartsWith(StoppedEarly, StringComparison.Ordinal) ? reason : $"{state}: {reason}";

    /// <summary>How the engine's reason for a run its patience ended starts (EarlyStopping).</summary>
    private const string StoppedEarly = "stopped early: ";

    private static string Validation(bool has, double loss, double accuracy) =>
        has ? string.Create(CultureInfo.InvariantCulture, $" · val {loss:F4} nats/char, accuracy {accuracy:P1}") : "";
}
