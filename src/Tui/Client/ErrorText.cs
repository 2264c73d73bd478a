using System.Security.Authentication;
using System.Text.RegularExpressions;
using Grpc.Core;

namespace CharRnn.Tui.Client;

/// <summary>
/// A failed call as one line for a person at the REPL or TUI. The server words its errors for API
/// clients (options.learning_rate, hyperparameters[bptt], ListModels); here they name what the
/// person types instead (lr, bptt, models). A status the caller can act on is not prefixed with
/// its code; one that means something broke (INTERNAL, UNKNOWN, …) keeps it.
/// </summary>
public static partial class ErrorText
{
    /// <summary>
    /// The error in the person's terms, ending "(request 3f9a1c2b)" when the server gave the call's request id: what an
    /// operator asked about the error looks for in the server's log. Every view that shows a failed call says it with this.
    /// Said once (an INTERNAL's message has it already).
    /// </summary>
    public static string Describe(Exception e) => WithRequestId(e, Said(e));

    private static string WithRequestId(Exception e, string said) =>
        e is RpcException r && r.Trailers.GetValue(RequestIdTrailer) is { Length: > 0 } id && !said.Contains($"(request {id})", StringComparison.Ordinal)
            ? $"{said.TrimEnd()} (request {id})" : said;

    private static string Said(Exception e) => e switch
    {
        // INTERNAL from a plain server that answers the ClientHello; UNAVAILABLE from one that closes the connection on it.
        RpcException { StatusCode: StatusCode.Internal or StatusCode.Unavailable } r when r.Status.Detail.Contains("SSL connection could not be established", StringComparison.Ordinal) =>
            "could not start a TLS connection: " + TlsFailure(r.Status.DebugException),
        // With an INTERNAL the client made when its connection failed (no server said it).
        RpcException r when r.StatusCode == StatusCode.Unavailable || LinkFailure.Is(r) => $"server unavailable: {Plain(r.Status.Detail)}",
        RpcException { StatusCode: StatusCode.DeadlineExceeded } => "the server did not answer in time (DeadlineExceeded): it may be overloaded, or the connection lost",
        RpcException r when CallerCanAct(r.StatusCode) => InClientTerms(r.Status.Detail),
        RpcException r => $"{r.StatusCode}: {r.Status.Detail}",
        _ => e.Message,
    };

    /// <summary>
    /// Why a handshake failed, and what to do. .NET names the certificate's faults (SslPolicyErrors,
    /// X509ChainStatus) in the AuthenticationException under the call's; one with no inner cause is a
    /// reply that was no TLS at all (a plain server); no AuthenticationException means the connection
    /// closed on the ClientHello, as a plain server or a TLS server that refuses it both do; anything
    /// else is a TLS server that refused the handshake (versions, cipher suites, its certificate), told
    /// with the innermost reason. Without the exception (a status from elsewhere), the usual two readings.
    /// </summary>
    private static string TlsFailure(Exception? debug)
    {
        var causes = new List<Exception>();
        for (var e = debug; e != null; e = e.InnerException) causes.Add(e);
        if (causes.Count < 2)
            return "the server may serve plain HTTP/2 (give HOST:PORT or http://HOST:PORT), or its certificate is not trusted here (trust its CA with --tls-ca ca.pem)";
        var said = string.Join(" ", causes.OfType<AuthenticationException>().Select(a => a.Message));
        var untrusted = said.Contains("RemoteCertificateChainErrors", StringComparison.Ordinal) || said.Contains("certificate chain", StringComparison.Ordinal);
        var otherName = said.Contains("RemoteCertificateNameMismatch", StringComparison.Ordinal);
        if (!untrusted && !otherName)
        {
            if (causes[^1] is AuthenticationException)
                return "the server may serve plain HTTP/2 (give HOST:PORT or http://HOST:PORT): it gave no certificate";
            var reason = OpenSslCode().Replace(causes[^1].Message, "").TrimEnd('.');
            return causes.OfType<AuthenticationException>().Any()
                ? $"the TLS handshake failed ({reason}): check that the server allows TLS 1.2 or 1.3 with a cipher suite this machine offers, "
                  + "and that its --tls-cert (and --tls-key) load and match"
                : $"the server closed the connection during the TLS handshake ({reason}): it may serve plain HTTP/2 (give HOST:PORT or http://HOST:PORT), "
                  + "or refuse this client's TLS versions (it must allow TLS 1.2 or 1.3)";
        }
        var faults = new List<string>();
        if (untrusted)
            faults.Add("is not trusted here (self-signed, or from a CA this machine does not know): give its CA's certificate, as PEM, "
                       + "with --tls-ca ca.pem, or have the server use a certificate from a public CA");
        if (otherName) faults.Add("is for another host name: connect with a name on the certificate (https://THAT-NAME:PORT)");
        return "the server's certificate " + string.Join(", and ", faults);
    }

    /// <summary>The trailer a server sends a failed call's request id in; its log line for the call names the same id.</summary>
    public const string RequestIdTrailer = "charrnn-request-id";

    /// <summary>
    /// <see cref="Describe"/> as a clause that a sentence goes on from ("…; reconnecting"): without the
    /// full stop a server's or the transport's detail may end with, which read ").; reconnecting", also before the
    /// request id ("too big (request 3f9a1c2b); type on", not "too big. (request …); type on").
    /// </summary>
    public static string Clause(Exception e) => WithRequestId(e, Said(e).TrimEnd().TrimEnd('.')).TrimEnd().TrimEnd('.');

    /// <summary>
    /// The transport's words for a lost link, without .NET's exception names and codes: "Error reading
    /// next message. HttpIOException: The response ended prematurely … (ResponseEnded)" says "the
    /// connection was lost", "Error connecting to subchannel." "could not connect". Anything else as sent.
    /// </summary>
    private static string Plain(string detail) =>
        detail.StartsWith("Error connecting to subchannel", StringComparison.Ordinal) ? "could not connect"
        : detail.Contains("HttpIOException", StringComparison.Ordinal) || detail.Contains("ended prematurely", StringComparison.Ordinal) ? "the connection was lost"
        : ExceptionName().Replace(detail, "");

    // OpenSSL's "error:0A000410:SSL routines::" before its words.
    [GeneratedRegex(@"^error:[0-9A-Fa-f]+:[^:]*:[^:]*:")]
    private static partial Regex OpenSslCode();

    [GeneratedRegex(@"\b[A-Z]\w*Exception: ")]
    private static partial Regex ExceptionName();

    /// <summary>A status that says what the caller asked for cannot be done as asked (not that something broke).</summary>
    public static bool CallerCanAct(StatusCode code) => code is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.AlreadyExists
        or StatusCode.FailedPrecondition or StatusCode.OutOfRange or StatusCode.ResourceExhausted or StatusCode.PermissionDenied or StatusCode.Unauthenticated;

    /// <summary>The server's proto field and RPC names replaced by the REPL's keys and commands.</summary>
    public static string InClientTerms(string detail)
    {
        var text = TimeCapRefusal().Replace(detail, m =>
            $"time_budget={Duration(m.Groups["asked"].Value)} is more than this server gives one job ({Duration(m.Groups["cap"].Value)}, limit max_job_seconds); " +
            $"ask for at most {Duration(m.Groups["cap"].Value)},");
        text = OptionField().Replace(text, m => OptionKeys.GetValueOrDefault(m.Groups[1].Value, m.Groups[1].Value));
        text = Hyperparameter().Replace(text, "$1");
        text = SamplingField().Replace(text, m => SamplingKeys.GetValueOrDefault(m.Groups[1].Value, m.Value));
        text = RequestField().Replace(text, m => RequestKeys[m.Value]);
        foreach (var (api, repl) in Phrases) text = text.Replace(api, repl, StringComparison.Ordinal);
        // `bs = 16` as the REPL takes it, `bs=16`, as job reasons are shown (JobReasonText.Of).
        return NewNameInProse(JobReasonText.Of(text, TypedKeys));
    }

    /// <summary>
    /// RenameModel's field, new_name, as prose: "The new name 'x' is …", "choose another new name", for a client whose
    /// user gave it as a command's second word (the REPL's NEW_NAME, charrnn rename's new-name), never by that name.
    /// </summary>
    public static string NewNameInProse(string detail) =>
        (detail.StartsWith("new_name '", StringComparison.Ordinal) ? "The new name" + detail["new_name".Length..] : detail)
            .Replace("another new_name", "another new name", StringComparison.Ordinal);

    // TrainingOptions fields whose REPL key differs (ListArchitectures' option_field, read backwards).
    private static readonly Dictionary<string, string> OptionKeys = new()
    {
        ["learning_rate"] = "lr", ["weight_decay"] = "wd", ["lowercase"] = "lower", ["valid_fraction"] = "val_fraction",
        ["keep_cycle_checkpoints"] = "keep_cycles", ["time_budget_seconds"] = "time_budget",
    };

    private static readonly Dictionary<string, string> SamplingKeys = new() { ["temperature"] = "t", ["top_k"] = "k", ["top_p"] = "p", ["min_p"] = "min_p", ["seed"] = "seed" };

    private static readonly Dictionary<string, string> RequestKeys = new() { ["model_name"] = "name", ["corpus_name"] = "corpus", ["header.name"] = "name" }; // header.name: UploadCorpus's, upload's name=

    // The keys the REPL takes, each spelt as typed: the training settings, the sampling keys, every architecture's hyperparameters.
    private static readonly JobReasonText.Spelling TypedKeys = new(
        JobReasonText.Repl.Names.Values.Concat(SamplingKeys.Values)
            .Concat(CharRnn.Engine.Models.Architectures.All.SelectMany(a => a.Parameters.Select(p => p.Name)))
            .Distinct(StringComparer.Ordinal).ToDictionary(k => k, k => k, StringComparer.Ordinal), "=");

    // Whole phrases, so that a sentence still reads: the RPC that lists or does a thing becomes the REPL command that does.
    private static readonly (string Api, string Repl)[] Phrases =
    [
        ("ListModels shows the models there are", "models lists them"),
        ("ListCorpora shows the ones there are, or upload text (UploadCorpus, the REPL's upload)", "corpora lists the ones there are, or upload a text file (upload FILE)"),
        ("ListCorpora shows the corpora it can use", "corpora lists the ones it can use"),
        ("(ListCorpora)", "(corpora lists them)"),
        ("(DeleteCorpus), or replace one", "(delete-corpus), or replace one (upload FILE replace=true)"),
        ("DeleteCorpus deletes uploads only", "delete-corpus deletes uploads only"),
        ("(ListSessions lists them, CloseSession closes one)", "(sessions lists them, sessions close ID closes one)"),
        ("(StopJob)", "(stop)"),
        ("(DeleteModel)", "(delete)"),
        ("once DeleteModel has returned", "once delete has returned"),
        ("(RenameModel)", "(rename)"),
        ("once RenameModel has returned", "once rename has returned"),
        ("set resume to continue it", "resume it to continue"),
        ("training with keep_cycle_checkpoints", "training with keep_cycles=true"), // export's checkpoint=cycle-N of a model with none
        ("unknown_chars = UNKNOWN_CHARS_SKIP (OpenSession, Configure)", "set unknown=skip"), // a prime or fed text the model cannot read
        ("WatchJob follows it, StopJob stops it with a checkpoint", "attach watches it and stop stops it with a checkpoint, given the model's name or the job's id"),
    ];

    /// <summary>
    /// Seconds as the REPL's time_budget= takes them, a duration ("3h00m", "30m00s", "0.5s"): the
    /// seconds of one over an hour kept, as a budget typed "1h30m30s" is not the "1h30m" the server's cap may be.
    /// </summary>
    private static string Duration(string seconds)
    {
        var span = TimeSpan.FromSeconds(double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture));
        var text = CharRnn.Engine.Training.DurationText.Format(span);
        return span.TotalHours >= 1 && span.Seconds > 0 ? $"{text}{span.Seconds:00}s" : text;
    }

    // The server's refusal of a time budget over its max_job_seconds, which it writes in the wire's seconds (JobPlanning.WithJobTimeCap).
    [GeneratedRegex(@"\boptions\.time_budget_seconds = (?<asked>\d+(?:\.\d+)?) is more than this server gives one job \((?<cap>\d+(?:\.\d+)?) s, limit max_job_seconds\); ask for at most \d+(?:\.\d+)?,")]
    private static partial Regex TimeCapRefusal();

    [GeneratedRegex(@"\boptions\.([a-z_]+)")]
    private static partial Regex OptionField();

    [GeneratedRegex(@"\bhyperparameters\[([a-z_0-9]+)\]")]
    private static partial Regex Hyperparameter();

    [GeneratedRegex(@"\bsampling\.([a-z_]+)")]
    private static partial Regex SamplingField();

    [GeneratedRegex(@"\b(model_name|corpus_name|header\.name)\b")]
    private static partial Regex RequestField();
}
