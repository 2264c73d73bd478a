namespace CharRnn.Tui.Tests;

/// <summary>
/// Every number option is refused in one wording, from the range it declares (NumberOptions.Allowing): the option as typed,
/// the value given, and what it allows, whether the value is out of that range, beyond what its type holds, or not a number.
/// </summary>
public partial class CommandLineTests
{
    [Theory]
    // train (and resume, lr-find: the same flags): the training specs' ranges, 0's meaning named where it has one.
    [InlineData(new[] { "train", "--epochs", "0" }, "--epochs 0 is not allowed; give an integer from 1 to 100000. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--epochs", "-1" }, "--epochs -1 is not allowed; give an integer from 1 to 100000. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--epochs", "100001" }, "--epochs 100001 is not allowed; give an integer from 1 to 100000. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--epochs", "2.5" }, "--epochs '2.5' is not a whole number; give an integer from 1 to 100000, in digits only (no separators, no decimals). (see charrnn train --help)")]
    [InlineData(new[] { "train", "--clip", "-1" }, "--clip -1 is not allowed; give 0 (off) or a gradient norm up to 1000000. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--clip", "inf" }, "--clip 'inf' is not a number; give 0 (off) or a gradient norm up to 1000000, like 0.5 or 2e-3. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--max-steps", "-1" }, "--max-steps -1 is not allowed; give 0 (no limit) or a number of steps up to 1000000000000. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--sample-chars", "10001" }, "--sample-chars 10001 is not allowed; give 0 (none) to 10000. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--min-delta", "NaN" }, "--min-delta 'NaN' is not a number; give 0 (any drop counts) to 1 nats/char, like 0.5 or 2e-3. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--min-freq", "0" }, "--min-freq 0 is not allowed; give an integer from 1 to 1000000000. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--val-fraction", "0" }, "--val-fraction 0 is not allowed; give a number from 0.01 to 0.5. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--seed", "-1" }, "--seed -1 is not allowed; give an integer from 0 to 2147483647. (see charrnn train --help)")]
    [InlineData(new[] { "resume", "m", "--epochs", "0" }, "--epochs 0 is not allowed; give an integer from 1 to 100000. (see charrnn resume --help)")]
    [InlineData(new[] { "lr-find", "--min-freq", "0" }, "--min-freq 0 is not allowed; give an integer from 1 to 1000000000. (see charrnn lr-find --help)")]
    [InlineData(new[] { "lr-find", "--clip", "-0.5" }, "--clip -0.5 is not allowed; give 0 (off) or a gradient norm up to 1000000. (see charrnn lr-find --help)")]
    [InlineData(new[] { "lr-find", "--start-lr", "-1" }, "--start-lr -1 is not allowed; give a rate above 0 and below --end-lr. (see charrnn lr-find --help)")]
    [InlineData(new[] { "lr-find", "--end-lr", "0" }, "--end-lr 0 is not allowed; give a rate above 0 and at most 10. (see charrnn lr-find --help)")]
    // generate, neurons and --threads: the verbs' own constants.
    [InlineData(new[] { "generate", "m", "-n", "1000001" }, "-n 1000001 is not allowed; give 1 to 1000000. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "--chars", "-5" }, "--chars -5 is not allowed; give 1 to 1000000. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "-t", "-0.5" }, "-t -0.5 is not allowed; give 0 (greedy) to 10. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "--temperature", "11" }, "--temperature 11 is not allowed; give 0 (greedy) to 10. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "--top-k", "-1" }, "--top-k -1 is not allowed; give 0 (off) or a number of characters up to 2147483647 (one at or above the model's vocabulary size keeps them all, as 0 does). (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "--top-p", "0" }, "--top-p 0 is not allowed; give a number above 0 and at most 1 (1: off). (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "--min-p", "-0.1" }, "--min-p -0.1 is not allowed; give a number from 0 (off) up to, not including, 1. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "--threads", "-1" }, "--threads -1 is not allowed; give 0 (libtorch's default: one per core) to 256. (see charrnn generate --help)")]
    [InlineData(new[] { "neurons", "m", "--top", "0" }, "--top 0 is not allowed; give 1 to 2147483647. (see charrnn neurons --help)")]
    [InlineData(new[] { "neurons", "m", "--max-chars", "100001" }, "--max-chars 100001 is not allowed; give 1 to 100000. (see charrnn neurons --help)")]
    // serve: each limit before anything starts.
    [InlineData(new[] { "serve", "--training-share", "1.5" }, "--training-share 1.5 is not allowed; give 0.05 to 0.95. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--training-slice-ms", "0.1" }, "--training-slice-ms 0.1 is not allowed; give 0.5 to 100. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--checkpoint-minutes", "0" }, "--checkpoint-minutes 0 is not allowed; give 0.01 to 525600. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-sessions", "0" }, "--max-sessions 0 is not allowed; give 1 to 2147483647. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--session-idle-seconds", "-3" }, "--session-idle-seconds -3 is not allowed; give 1 to 2147483647. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-chars-per-call", "0" }, "--max-chars-per-call 0 is not allowed; give 1 to 2147483647. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-prime-chars", "0" }, "--max-prime-chars 0 is not allowed; give 1 to 2147483647. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-upload-bytes", "0" }, "--max-upload-bytes 0 is not allowed; give 1 to 2000000000 (a gRPC message holds under 2 GiB). (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-corpus-mb", "1001" }, "--max-corpus-mb 1001 is not allowed; give 1 to 1000 (a corpus is loaded whole, as one string under 2 GiB). (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-queued-jobs", "0" }, "--max-queued-jobs 0 is not allowed; give 1 to 2147483647. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-epochs", "100001" }, "--max-epochs 100001 is not allowed; give 1 to 100000. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-job-hours", "-1" }, "--max-job-hours -1 is not allowed; give 0 (no limit) to 8784 hours. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-sessions-per-key", "0" }, "--max-sessions-per-key 0 is not allowed; give 1 to 2147483647. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-jobs-per-key", "0" }, "--max-jobs-per-key 0 is not allowed; give 1 to 2147483647. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-chars-per-minute-per-key", "0" }, "--max-chars-per-minute-per-key 0 is not allowed; give 1 to 9223372036854775807. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-models-per-key", "0" }, "--max-models-per-key 0 is not allowed; give 1 to 2147483647. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-corpora-per-key", "0" }, "--max-corpora-per-key 0 is not allowed; give 1 to 2147483647. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-exports", "0" }, "--max-exports 0 is not allowed; give 1 to 64. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-import-mb", "0" }, "--max-import-mb 0 is not allowed; give 1 to 2000. (see charrnn serve --help)")]
    // A hyperparameter flag: its range is the architecture's spec, so the verb checks it once it knows the architecture, in the same words.
    [InlineData(new[] { "train", "loop", "--n-hidden", "0" }, "--n-hidden 0 is not allowed; give an integer from 1 to 4096.")]
    [InlineData(new[] { "train", "loop", "--n-hidden", "99999999999999999999" }, "--n-hidden 99999999999999999999 is not allowed; give an integer from 1 to 4096.")]
    [InlineData(new[] { "lr-find", "loop", "--n-hidden", "1.5" }, "--n-hidden '1.5' is not a whole number; give an integer from 1 to 4096, in digits only (no separators, no decimals).")]
    [InlineData(new[] { "train", "stateful-gru", "--dropout", "NaN" }, "--dropout 'NaN' is not a number; give a number from 0 to 0.95, like 0.5 or 2e-3.")]
    [InlineData(new[] { "train", "stateful-gru", "--dropout", "0,5" }, "--dropout '0,5' is not a number: write decimals with a point (e.g. 0.5), and no thousands separators; give a number from 0 to 0.95.")]
    [InlineData(new[] { "serve", "--max-job-memory-mb", "-1" }, "--max-job-memory-mb -1 is not allowed; give 0 (half of this machine's memory) or a size in MB up to 8796093022207. (see charrnn serve --help)")]
    public void A_number_option_out_of_its_range_is_refused_naming_the_option_the_value_and_the_range(string[] args, string message) =>
        AssertUserError(args, "charrnn: " + message);
}
