using CharRnn.Tui.Client;
using Grpc.Core;

namespace CharRnn.Tui.Tests;

/// <summary>The server's API words turned into the REPL's, and which statuses keep their code.</summary>
public sealed class ErrorTextTests
{
    [Theory]
    [InlineData("options.learning_rate = 20 is not allowed; use 0 to 10.", "lr=20 is not allowed; use 0 to 10.")]
    [InlineData("options.time_budget_seconds = 0 is not allowed", "time_budget = 0 is not allowed")]
    // The server's cap on a job's time, in seconds on the wire; the REPL's time_budget= takes a duration, so it is told in one.
    [InlineData("options.time_budget_seconds = 10800 is more than this server gives one job (3600 s, limit max_job_seconds); ask for at most 3600, or leave it unset to get that.",
        "time_budget=3h00m is more than this server gives one job (1h00m, limit max_job_seconds); ask for at most 1h00m, or leave it unset to get that.")]
    [InlineData("options.time_budget_seconds = 2 is more than this server gives one job (0.5 s, limit max_job_seconds); ask for at most 0.5, or leave it unset to get that.",
        "time_budget=2s is more than this server gives one job (0.5s, limit max_job_seconds); ask for at most 0.5s, or leave it unset to get that.")]
    [InlineData("options.time_budget_seconds = 5430 is more than this server gives one job (1800 s, limit max_job_seconds); ask for at most 1800, or leave it unset to get that.",
        "time_budget=1h30m30s is more than this server gives one job (30m00s, limit max_job_seconds); ask for at most 30m00s, or leave it unset to get that.")]
    [InlineData("set options.epochs to at most 10.", "set epochs to at most 10.")]
    // A setting and its value read as the REPL takes them, key=value, as job reasons do (JobReasonText.Of).
    [InlineData("hyperparameters[n_hidden]: n_hidden = 9999 is not allowed", "n_hidden: n_hidden=9999 is not allowed")]
    [InlineData("Cut into hyperparameters[bs] = 16 streams, the corpus gives each 3 characters. Use a smaller hyperparameters[bs] or a longer corpus.",
        "Cut into bs=16 streams, the corpus gives each 3 characters. Use a smaller bs or a longer corpus.")]
    [InlineData("Training this model would need about 3.1 GB (stateful-lstm: hyperparameters[n_hidden] = 2048, hyperparameters[layers] = 4, a vocabulary of 60, 2,880 characters); " +
                "this server gives a job at most 1 GB (limit max_job_memory_bytes). Use a smaller hyperparameters[n_hidden], or fewer hyperparameters[layers].",
        "Training this model would need about 3.1 GB (stateful-lstm: n_hidden=2048, layers=4, a vocabulary of 60, 2,880 characters); " +
        "this server gives a job at most 1 GB (limit max_job_memory_bytes). Use a smaller n_hidden, or fewer layers.")]
    [InlineData("sampling.temperature = -1 is not allowed", "t=-1 is not allowed")]
    [InlineData("options.learning_rate = [0, 1e-3, 1e-3] is not allowed", "lr=0,1e-3,1e-3 is not allowed")]
    [InlineData("options.learning_rate × options.weight_decay = 5 × 0.5 is not allowed with adamw", "lr × wd = 5 × 0.5 is not allowed with adamw")] // a product's value is not wd's
    [InlineData("model_name 'a/b' is not a valid name", "name 'a/b' is not a valid name")]
    [InlineData("header.name 'nul' is not allowed: NUL is a device name on Windows", "name 'nul' is not allowed: NUL is a device name on Windows")] // upload's name=
    [InlineData("Model 'm' is being trained by a job; stop the job first (StopJob), then delete it.", "Model 'm' is being trained by a job; stop the job first (stop), then delete it.")]
    [InlineData("No corpus 'c' on this server; ListCorpora shows the ones there are, or upload text (UploadCorpus, the REPL's upload).", "No corpus 'c' on this server; corpora lists the ones there are, or upload a text file (upload FILE).")]
    [InlineData("Model 'm' has no checkpoint 'cycle-2'; it has best, last. Cycle checkpoints are kept by training with keep_cycle_checkpoints (an SGDR schedule).",
        "Model 'm' has no checkpoint 'cycle-2'; it has best, last. Cycle checkpoints are kept by training with keep_cycles=true (an SGDR schedule).")] // export's checkpoint=
    [InlineData("prime: The text contains 1 character(s)", "prime: The text contains 1 character(s)")]
    [InlineData("A model named 'm' exists; choose another model_name, set resume to continue it, or delete it first.", "A model named 'm' exists; choose another name, resume it to continue, or delete it first.")]
    [InlineData("close ones it no longer uses (ListSessions lists them, CloseSession closes one), or wait", "close ones it no longer uses (sessions lists them, sessions close ID closes one), or wait")]
    [InlineData("No uploaded corpus 'c' for this key; ListCorpora shows the corpora it can use.", "No uploaded corpus 'c' for this key; corpora lists the ones it can use.")]
    [InlineData("delete ones it no longer needs (DeleteCorpus), or replace one.", "delete ones it no longer needs (delete-corpus), or replace one (upload FILE replace=true).")]
    [InlineData("Corpus 'c' is one of the server's own corpora (ListCorpora); choose another name", "Corpus 'c' is one of the server's own corpora (corpora lists them); choose another name")]
    [InlineData("not an upload: DeleteCorpus deletes uploads only.", "not an upload: delete-corpus deletes uploads only.")]
    // Played: gen with a pasted prime holding a tab told the REPL to send 'unknown_chars = UNKNOWN_CHARS_SKIP (OpenSession, Configure)'.
    [InlineData("prime: The text contains 1 character(s) the model's vocabulary does not know: tab (U+0009). Use only characters of the training corpus. Or let the session leave such characters out: unknown_chars = UNKNOWN_CHARS_SKIP (OpenSession, Configure).",
        "prime: The text contains 1 character(s) the model's vocabulary does not know: tab (U+0009). Use only characters of the training corpus. Or let the session leave such characters out: set unknown=skip.")]
    public void Api_words_become_the_repl_words(string server, string shown) => Assert.Equal(shown, ErrorText.InClientTerms(server));

    [Fact]
    public void A_status_the_caller_can_act_on_shows_its_message_alone_and_a_fault_keeps_its_code()
    {
        Assert.Equal("No model 'x' on this server; models lists them.",
            ErrorText.Describe(new RpcException(new Status(StatusCode.NotFound, "No model 'x' on this server; ListModels shows the models there are."))));
        Assert.Equal("Internal: options.clip broke", ErrorText.Describe(new RpcException(new Status(StatusCode.Internal, "options.clip broke"))));
        Assert.StartsWith("server unavailable: ", ErrorText.Describe(new RpcException(new Status(StatusCode.Unavailable, "gone"))), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StatusCode.Unavailable, "Error connecting to subchannel.", "server unavailable: could not connect")]
    [InlineData(StatusCode.Unavailable, "Error reading next message. HttpIOException: The response ended prematurely while waiting for the next frame from the server. (ResponseEnded)", "server unavailable: the connection was lost")]
    [InlineData(StatusCode.Unavailable, "Error starting gRPC call. SocketException: Connection refused", "server unavailable: Error starting gRPC call. Connection refused")]
    [InlineData(StatusCode.Internal, "Error starting gRPC call. HttpRequestException: The SSL connection could not be established, see inner exception.",
        "could not start a TLS connection: the server may serve plain HTTP/2 (give HOST:PORT or http://HOST:PORT), or its certificate is not trusted here (trust its CA with --tls-ca ca.pem)")]
    public void A_lost_link_is_told_in_words_not_in_exception_names(StatusCode code, string detail, string shown) =>
        Assert.Equal(shown, ErrorText.Describe(new RpcException(new Status(code, detail))));

    [Fact]
    public void A_clause_a_sentence_goes_on_from_has_no_full_stop_of_its_own()
    {
        // As the watch's "…; reconnecting" and the typing pane's "…; type on to reconnect" use it.
        var e = new RpcException(new Status(StatusCode.Unavailable, "Error starting gRPC call. HttpRequestException: Connection refused (127.0.0.1:42400)."));
        Assert.Equal("server unavailable: Error starting gRPC call. Connection refused (127.0.0.1:42400)", ErrorText.Clause(e));
    }

    [Fact]
    public void A_clause_puts_the_request_id_after_the_message_without_its_full_stop()
    {
        var e = new RpcException(new Status(StatusCode.ResourceExhausted, "The message is too big."), new Metadata { { ErrorText.RequestIdTrailer, "0123abcd" } });
        Assert.Equal("The message is too big (request 0123abcd)", ErrorText.Clause(e)); // not "big. (request 0123abcd)" before "; type on"
        Assert.Equal("The message is too big. (request 0123abcd)", ErrorText.Describe(e));
    }
}
