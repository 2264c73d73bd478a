using System.Text.RegularExpressions;
using CharRnn.Tui.Cli;

namespace CharRnn.Tui.Tests;

/// <summary>The charrnn command line: its verbs, their refusals (one line, exit 2), failures (exit 1) and output.</summary>
public partial class CommandLineTests
{
    [Theory]
    [InlineData(new[] { "train", "--bogus" }, "charrnn: Unrecognized command or argument '--bogus'. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--arch", "nope" }, "charrnn: Argument 'nope' not recognized. Must be one of: 'char3', 'loop', ")]
    [InlineData(new[] { "keys", "lsit" }, "charrnn: Unrecognized command or argument 'lsit'. Did you mean 'list'? (see charrnn keys --help)")]
    // keys is only its subcommands: none given, or a word none of them is, is answered with the list (exit 2), as other usage errors name what is allowed.
    [InlineData(new[] { "keys" }, "charrnn: charrnn keys needs a subcommand: add, list or remove. (see charrnn keys --help)")]
    [InlineData(new[] { "keys", "bogus" }, "charrnn: Unrecognized command or argument 'bogus'. charrnn keys takes a subcommand: add, list or remove. (see charrnn keys --help)")]
    [InlineData(new[] { "generate", "--threds", "1", "m" }, "charrnn: Unrecognized command or argument '--threds'. Did you mean '--threads'? (see charrnn generate --help)")] // the flag, not the '1' refused after it
    [InlineData(new[] { "train", "--arch", "char3", "--identity-init" }, "charrnn: --identity-init is not a hyperparameter of char3; it has: ")] // a yes/no flag needs no value
    [InlineData(new[] { "train", "--arch", "seq-rnn", "--identity-init", "maybe" }, "charrnn: --identity-init 'maybe' is not allowed; --identity-init must be true or false.")]
    [InlineData(new[] { "train", "--identity-init", "char3" }, "charrnn: --identity-init is not a hyperparameter of char3; it has: ")] // the architecture after a yes/no flag is the architecture, not the flag's value
    [InlineData(new[] { "train", "--patience", "-1" }, "charrnn: --patience -1 is not allowed; give 0 (off) or 1 to 1000 epochs. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--patience", "2", "--min-delta", "1.5" }, "charrnn: --min-delta 1.5 is not allowed; give 0 (any drop counts) to 1 nats/char. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--min-delta", "0.01" }, "charrnn: --min-delta 0.01 only counts with early stopping, and the patience is 0 (off); add --patience N (the epochs to wait, say 3), or drop --min-delta.")]
    [InlineData(new[] { "train", "--val-fraction", "0.7" }, "charrnn: --val-fraction 0.7 is not allowed; give a number from 0.01 to 0.5. (see charrnn train --help)")] // the flag as typed, not the engine's key
    [InlineData(new[] { "generate", "--model", "m", "--top-p", "2" }, "charrnn: --top-p 2 is not allowed; give a number above 0 and at most 1 (1: off). (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "--model", "m", "--min-p", "1" }, "charrnn: --min-p 1 is not allowed; give a number from 0 (off) up to, not including, 1. (see charrnn generate --help)")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--metrics-listen", "9464" }, "charrnn: --metrics-listen '9464' is not HOST:PORT")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:99999" }, "charrnn: --listen '127.0.0.1:99999': 99999 is not a port; a port is 1 to 65535, or 0 to pick a free one.")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0" }, "charrnn: --metrics-listen '127.0.0.1:0' needs a port of its own")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--threads", "-1" }, "charrnn: --threads -1 is not allowed; give 0 (libtorch's default: one per core) to ")]
    [InlineData(new[] { "train", "--corpus", "" }, "charrnn: --corpus is empty; give a text file or a known corpus name, or leave it out for nietzsche. (see charrnn train --help)")]
    [InlineData(new[] { "models", "--models", " " }, "charrnn: --models is empty; give the folder that holds model folders (default: models).")]
    [InlineData(new[] { "generate", "" }, "charrnn: The model is empty; give a model's name or folder.")]
    [InlineData(new[] { "resume", "" }, "charrnn: The model is empty; give a model's name or folder.")]
    [InlineData(new[] { "generate", "m", "--threads", "abc" }, "charrnn: --threads 'abc' is not a whole number")]
    [InlineData(new[] { "generate", "m", "--threads", "5000" }, "charrnn: --threads 5000 is not allowed; give 0 (libtorch's default: one per core) to ")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--checkpoint-minutes", "1e300" }, "charrnn: --checkpoint-minutes 1e300 is not allowed; give 0.01 to 525600. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--models", "/etc/hostname" }, "charrnn: --models '/etc/hostname' is a file")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--tls-key", "server.key" }, "charrnn: --tls-key goes with --tls-cert (the certificate to serve); without it the server would serve plain HTTP/2.")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--tls-password-file", "pass" }, "charrnn: --tls-password-file goes with --tls-cert (the certificate to serve)")]
    [InlineData(new[] { "models", "--models", "/nonexistent/models" }, "charrnn: --models '/nonexistent/models' does not exist; give the folder that holds model folders (default: models).")]
    [InlineData(new[] { "generate", "--model", "no-such-model", "--models", "/nonexistent/models" }, "charrnn: No model 'no-such-model': it is not a model folder or .ckpt file, nor a model in --models '/nonexistent/models'")]
    [InlineData(new[] { "keys", "list", "--keys", "/nonexistent/keys.json" }, "charrnn: --keys /nonexistent/keys.json does not exist")]
    [InlineData(new[] { "keys", "list", "--keys", "" }, "charrnn: --keys is empty; give the keys file (default: keys.json).")]
    [InlineData(new[] { "keys", "add", "bob", "--keys", "/tmp" }, "charrnn: --keys '/tmp' is a folder; give the keys file (e.g. /tmp/keys.json). (see charrnn keys add --help)")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--keys", "/tmp" }, "charrnn: --keys '/tmp' is a folder; give the keys file that charrnn keys add wrote.")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--corpora", "/nonexistent/corpora" }, "charrnn: --corpora '/nonexistent/corpora' does not exist; give a folder of *.txt files (or leave --corpora out for the known corpora only).")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--corpora", "/etc/hostname" }, "charrnn: --corpora '/etc/hostname' is a file; give the folder that holds the *.txt corpora.")]
    [InlineData(new[] { "keys", "add", "bob", "--keys", "/proc/keys.json" }, "charrnn: --keys '/proc/keys.json' cannot be written (its lock file, beside it, cannot be made): ")]
    [InlineData(new[] { "keys", "add", "bob", "--keys", "/etc/hostname/keys.json" }, "charrnn: --keys '/etc/hostname/keys.json' cannot be written: '/etc/hostname' is a file, not a folder; give a keys file in a folder.")]
    [InlineData(new[] { "keys", "remove", "bob", "--keys", "/etc/hostname/keys.json" }, "charrnn: --keys '/etc/hostname/keys.json' cannot be written: '/etc/hostname' is a file")]
    [InlineData(new[] { "train", "--time-budget", "10:00" }, "charrnn: --time-budget '10:00' is ambiguous (hours:minutes or minutes:seconds?)")]
    [InlineData(new[] { "demo", "--time-budget", "0s" }, "charrnn: --time-budget '0s' is no time; give a duration above 0")]
    [InlineData(new[] { "serve", "--max-hyperparameter", "n_hidden" }, "charrnn: --max-hyperparameter 'n_hidden' is not NAME=VALUE (e.g. n_hidden=4096).")]
    [InlineData(new[] { "serve", "--max-hyperparameter", "n_hidden=lots" }, "charrnn: --max-hyperparameter 'n_hidden=lots': 'lots' is not a number; give the cap in digits (e.g. n_hidden=4096).")]
    [InlineData(new[] { "serve", "--max-hyperparameter", "depth=3" }, "charrnn: --max-hyperparameter: 'depth' has no cap; the capped hyperparameters are n_hidden, ")]
    // Numbers read the same in every locale: "0,8" is not quietly 8 (System.CommandLine's own parsing allows thousands separators).
    [InlineData(new[] { "generate", "--model", "m", "-t", "0,8" }, "charrnn: -t '0,8' is not a number: write decimals with a point (e.g. 0.8), and no thousands separators; give 0 (greedy) to 10. (see charrnn generate --help)")]
    [InlineData(new[] { "train", "--clip", "1,000" }, "charrnn: --clip '1,000' is not a number: write decimals with a point")]
    [InlineData(new[] { "train", "--epochs", "ten" }, "charrnn: --epochs 'ten' is not a whole number; give an integer from 1 to 100000, in digits only (no separators, no decimals). (see charrnn train --help)")]
    [InlineData(new[] { "train", "--epochs", "1.5" }, "charrnn: --epochs '1.5' is not a whole number")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--max-chars-per-call", "5000", "--max-chars-per-minute-per-key", "4000" },
        "charrnn: --max-chars-per-call 5000 is more than --max-chars-per-minute-per-key 4000: a call asking for that many could never start.")]
    // A number beyond what its type holds, or none at all, is refused naming what the option allows, not the type's limits.
    [InlineData(new[] { "serve", "--max-sessions", "99999999999" }, "charrnn: --max-sessions 99999999999 is not allowed; give 1 to 2147483647. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-imports", "99999999999" }, "charrnn: --max-imports 99999999999 is not allowed; give 1 to 64. (see charrnn serve --help)")]
    [InlineData(new[] { "train", "--epochs", "99999999999" }, "charrnn: --epochs 99999999999 is not allowed; give an integer from 1 to 100000. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--seed", "99999999999" }, "charrnn: --seed 99999999999 is not allowed; give an integer from 0 to 2147483647. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--max-steps", "99999999999999999999999999999999" }, "charrnn: --max-steps 99999999999999999999999999999999 is not allowed; give 0 (no limit) or a number of steps up to 1000000000000. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--lr", "NaN" }, "charrnn: --lr 'NaN' is not a number; give a number from 0 to 10, or three such numbers separated by commas (embedding,recurrent,output), like 0.5 or 2e-3.")]
    // --lr and --wd, one value or three, in the number flags' words, from the setting's range.
    [InlineData(new[] { "train", "--lr", "-1" }, "charrnn: --lr -1 is not allowed; give a number from 0 to 10, or three such numbers separated by commas (embedding,recurrent,output).")]
    [InlineData(new[] { "train", "--lr", "1e-3,11,1e-3" }, "charrnn: --lr 1e-3,11,1e-3 is not allowed; give a number from 0 to 10, or three such numbers separated by commas (embedding,recurrent,output).")]
    [InlineData(new[] { "train", "--lr", "1e-3,1e-3" }, "charrnn: --lr 1e-3,1e-3 is not allowed; give a number from 0 to 10, or three such numbers separated by commas (embedding,recurrent,output).")]
    [InlineData(new[] { "train", "--wd", "2" }, "charrnn: --wd 2 is not allowed; give a number from 0 to 1, or three such numbers separated by commas (embedding,recurrent,output).")]
    [InlineData(new[] { "train", "--wd", "0,x,0" }, "charrnn: --wd '0,x,0' holds 'x', which is not a number; give a number from 0 to 1, or three such numbers separated by commas (embedding,recurrent,output), like 0.5 or 2e-3.")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--steps", "99999999999" }, "charrnn: --steps 99999999999 is not allowed; give 10 to 10000. (see charrnn lr-find --help)")]
    [InlineData(new[] { "generate", "m", "-n", "99999999999" }, "charrnn: -n 99999999999 is not allowed; give 1 to 1000000. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "--samples", "99999999999" }, "charrnn: --samples 99999999999 is not allowed; give 1 to 64. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "-t", "NaN" }, "charrnn: -t 'NaN' is not a number; give 0 (greedy) to 10, like 0.5 or 2e-3. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "--seed", "99999999999999999999" }, "charrnn: --seed 99999999999999999999 is not allowed; give 0 to 18446744073709551615. (see charrnn generate --help)")]
    [InlineData(new[] { "neurons", "m", "--cell", "99999999999" }, "charrnn: --cell 99999999999 is not allowed; give a cell of the layer, from 0 to its n_hidden less 1. (see charrnn neurons --help)")]
    [InlineData(new[] { "serve", "--max-upload-bytes", "9223372036854775807" }, "charrnn: --max-upload-bytes 9223372036854775807 is not allowed; give 1 to 2000000000 (a gRPC message holds under 2 GiB). (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-exports", "65" }, "charrnn: --max-exports 65 is not allowed; give 1 to 64. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-exports-per-key", "0" }, "charrnn: --max-exports-per-key 0 is not allowed; give 1 to 64. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-imports", "0" }, "charrnn: --max-imports 0 is not allowed; give 1 to 64. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-imports", "65" }, "charrnn: --max-imports 65 is not allowed; give 1 to 64. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-imports-per-key", "0" }, "charrnn: --max-imports-per-key 0 is not allowed; give 1 to 64. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--max-imports", "1", "--max-imports-per-key", "2" },
        "charrnn: --max-imports-per-key 2 is more than --max-imports 1: a key could never have that many imports at once. Lower the first or raise the second.")]
    [InlineData(new[] { "serve", "--listen", "127.0.0.1:0", "--max-exports", "3", "--max-exports-per-key", "4" },
        "charrnn: --max-exports-per-key 4 is more than --max-exports 3: a key could never have that many downloads at once. Lower the first or raise the second.")]
    [InlineData(new[] { "serve", "--max-import-mb", "2001" }, "charrnn: --max-import-mb 2001 is not allowed; give 1 to 2000. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-import-mb", "0" }, "charrnn: --max-import-mb 0 is not allowed; give 1 to 2000. (see charrnn serve --help)")]
    [InlineData(new[] { "serve", "--max-corpus-mb", "0" }, "charrnn: --max-corpus-mb 0 is not allowed; give 1 to 1000 (a corpus is loaded whole, as one string under 2 GiB). (see charrnn serve --help)")]
    [InlineData(new[] { "generate", "--model", "m", "--seed", "-1" }, "charrnn: --seed -1 is not allowed; give 0 to 18446744073709551615. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "no-such-model", "--models", "/nonexistent/models" }, "charrnn: No model 'no-such-model': it is not a model folder or .ckpt file")] // the model as an argument, as resume takes it
    [InlineData(new[] { "generate", "m", "-n", "0" }, "charrnn: -n 0 is not allowed; give 1 to 1000000. (see charrnn generate --help)")] // as the REPL's gen takes it
    [InlineData(new[] { "generate", "-n", "5" }, "charrnn: Which model? Give its name or folder: charrnn generate NAME (or --model NAME)")]
    [InlineData(new[] { "generate", "a", "--model", "b" }, "charrnn: Two models given, 'a' and --model 'b'; give one.")]
    [InlineData(new[] { "train", "stateful-rnn", "--arch", "stateful-gru" }, "charrnn: Two architectures given, 'stateful-rnn' and --arch 'stateful-gru'; give one.")]
    [InlineData(new[] { "train", "gru" }, "charrnn: Argument 'gru' not recognized. Must be one of: 'char3', ")]
    // An unknown flag where a model or a key's name may stand is refused as a flag, not looked up as a model.
    [InlineData(new[] { "generate", "--bogus" }, "charrnn: Unrecognized command or argument '--bogus'. (see charrnn generate --help)")]
    [InlineData(new[] { "resume", "--bogus" }, "charrnn: Unrecognized command or argument '--bogus'. (see charrnn resume --help)")]
    // --server after a verb: the verb works on a local folder; the server is reached through the REPL's command.
    [InlineData(new[] { "models", "--server", "gpu:50051" }, "charrnn: Unrecognized command or argument '--server'. charrnn models works on a local folder; on the server, run the REPL's command: charrnn --server gpu:50051 --exec \"models\". (see charrnn models --help)")]
    [InlineData(new[] { "models", "--server=gpu:50051" }, "charrnn: Unrecognized command or argument '--server=gpu:50051'. charrnn models works on a local folder; on the server, run the REPL's command: charrnn --server gpu:50051 --exec \"models\". (see charrnn models --help)")]
    [InlineData(new[] { "keys", "add", "--bogus" }, "charrnn: Unrecognized command or argument '--bogus'. (see charrnn keys add --help)")]
    [InlineData(new[] { "train", "--name", "nul" }, "charrnn: --name 'nul' is not allowed: NUL is a device name on Windows (CON, PRN, AUX, NUL, COM1 to COM9 and LPT1 to LPT9, in any case, with or without an extension), so a folder of that name cannot be made or copied there. Pick another name; a model name is 1 to 64 characters")]
    [InlineData(new[] { "train", "--name", "Com1.v2" }, "charrnn: --name 'Com1.v2' is not allowed: COM1 is a device name on Windows")]
    // --out's last folder is the model's name: the same rule as --name's, said in --out's terms (refused before the corpus is read).
    [InlineData(new[] { "train", "--out", "/nonexistent/models/con", "--corpus", "/nonexistent/tiny.txt" }, "charrnn: --out '/nonexistent/models/con': the model's name (its folder's) 'con' is not allowed: CON is a device name on Windows (CON, PRN, AUX, NUL, COM1 to COM9 and LPT1 to LPT9, in any case, with or without an extension), so a folder of that name cannot be made or copied there. Pick another name; a model name is 1 to 64 characters")]
    [InlineData(new[] { "train", "--out", "/nonexistent/models/Lpt3.v1/", "--corpus", "/nonexistent/tiny.txt" }, "charrnn: --out '/nonexistent/models/Lpt3.v1/': the model's name (its folder's) 'Lpt3.v1' is not allowed: LPT3 is a device name on Windows")]
    [InlineData(new[] { "train", "--out", "/nonexistent/models/a b", "--corpus", "/nonexistent/tiny.txt" }, "charrnn: --out '/nonexistent/models/a b': the model's name (its folder's) 'a b' is not a valid name; a model name is 1 to 64 characters")]
    [InlineData(new[] { "train", "--out", "/nonexistent/models/run.", "--corpus", "/nonexistent/tiny.txt" }, "charrnn: --out '/nonexistent/models/run.': the model's name (its folder's) 'run.' is not allowed: it ends with '.', which Windows drops from a folder's name, so 'run.' and 'run' would be one folder there. Pick another name; a model name is 1 to 64 characters")]
    [InlineData(new[] { "train", "--name", "v2.", "--corpus", "/nonexistent/tiny.txt" }, "charrnn: --name 'v2.' is not allowed: it ends with '.', which Windows drops from a folder's name, so 'v2.' and 'v2' would be one folder there. Pick another name; a model name is 1 to 64 characters")]
    [InlineData(new[] { "train", "--name", "a/b" }, "charrnn: --name 'a/b' is not a valid name; a model name is 1 to 64 characters")]
    [InlineData(new[] { "generate", "m", "-n", "5", "-n", "6" }, "charrnn: -n is given more than once; give it once. (see charrnn generate --help)")]
    [InlineData(new[] { "generate", "m", "--chars", "5", "-n", "6" }, "charrnn: --chars is given more than once; give it once.")] // an alias counts as the option
    [InlineData(new[] { "train", "--lower", "--lower", "false" }, "charrnn: --lower is given more than once; give it once. (see charrnn train --help)")]
    // A word after a yes/no flag that is no yes/no word, and that nothing else takes, is refused as that flag's value, naming its words.
    [InlineData(new[] { "train", "--lower", "maybe", "--corpus", "/nonexistent/tiny.txt", "stateful-gru" }, "charrnn: --lower takes yes or no (true/false, yes/no, on/off, 1/0), or nothing for yes; 'maybe' is not one of them, nor an architecture. (see charrnn train --help)")]
    [InlineData(new[] { "train", "--lower", "maybe" }, "charrnn: --lower takes yes or no (true/false, yes/no, on/off, 1/0), or nothing for yes; 'maybe' is not one of them, nor an architecture. (see charrnn train --help)")]
    [InlineData(new[] { "keys", "add", "a", "--admin", "sure" }, "charrnn: --admin takes yes or no (true/false, yes/no, on/off, 1/0), or nothing for yes; 'sure' is not one of them. (see charrnn keys add --help)")]
    [InlineData(new[] { "keys", "add", "a", "--admin", "--admin" }, "charrnn: --admin is given more than once; give it once. (see charrnn keys add --help)")]
    [InlineData(new[] { "train", "--keep-cycles", "--epochs", "2" }, "charrnn: --keep-cycles keeps each SGDR cycle's end, and --schedule constant (the default) has no cycles; give --schedule sgdr:cycle_len=1,cycle_mult=2 (say), or a schedule with an sgdr phase, or drop --keep-cycles.")]
    [InlineData(new[] { "train", "--keep-cycles", "--epochs", "4", "--schedule", "constant,epochs=2; steps:1=0.1" }, "charrnn: --keep-cycles keeps each SGDR cycle's end, and --schedule 'constant,epochs=2; steps:1=0.1' has no cycles; give --schedule sgdr:cycle_len=1,cycle_mult=2 (say), or a schedule with an sgdr phase, or drop --keep-cycles.")]
    [InlineData(new[] { "train", "--name", "x", "--out", "y" }, "charrnn: --out names the model's folder whole; give it, or --models and --name, not both.")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--start-lr", "1", "--end-lr", "0.1" }, "charrnn: --start-lr 1 is not allowed; it must be below the end rate (0.1): the rate rises from the start to the end.")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--start-lr", "1e-3", "--end-lr", "1e-3" }, "charrnn: --start-lr 0.001 is not allowed; it must be below the end rate (0.001)")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--start-lr", "0" }, "charrnn: --start-lr 0 is not allowed; give a rate above 0 and below --end-lr. (see charrnn lr-find --help)")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--lr", "1e-3" }, "charrnn: --lr 1e-3 is one rate, and one rate has no effect on a search: the rate goes from --start-lr to --end-lr (set those instead); three rates, --lr a,b,c, set the layer groups' ratio.")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--end-lr", "-2" }, "charrnn: --end-lr -2 is not allowed; give a rate above 0 and at most 10. (see charrnn lr-find --help)")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--end-lr", "100" }, "charrnn: --end-lr 100 is not allowed; give a rate above 0 and at most 10. (see charrnn lr-find --help)")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--steps", "9" }, "charrnn: --steps 9 is not allowed; give 10 to 10000. (see charrnn lr-find --help)")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--steps", "10001" }, "charrnn: --steps 10001 is not allowed; give 10 to 10000. (see charrnn lr-find --help)")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--patience", "3" }, "charrnn: Unrecognized command or argument '--patience'. --patience is an option of charrnn train and resume, not of lr-find. (see charrnn lr-find --help)")] // another verb's flag: said whose
    [InlineData(new[] { "lr-find", "stateful-gru", "--min-delta", "0.1" }, "charrnn: Unrecognized command or argument '--min-delta'. --min-delta is an option of charrnn train and resume, not of lr-find. (see charrnn lr-find --help)")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--schedule", "constant" }, "charrnn: Unrecognized command or argument '--schedule'. --schedule is an option of charrnn train and resume, not of lr-find. (see charrnn lr-find --help)")]
    [InlineData(new[] { "lr-find", "gru" }, "charrnn: Argument 'gru' not recognized. Must be one of: 'char3', ")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--arch", "stateful-rnn" }, "charrnn: Two architectures given, 'stateful-gru' and --arch 'stateful-rnn'; give one.")]
    [InlineData(new[] { "lr-find", "char3", "--n-hidden", "0" }, "charrnn: --n-hidden 0 is not allowed")]
    [InlineData(new[] { "lr-find", "--recipe", "lessn" }, "charrnn: --recipe 'lessn' is not a recipe; known: lesson (stateful-lstm --lower --min-freq 3). Did you mean 'lesson'?")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--recipe", "lesson" }, "charrnn: --recipe lesson is for stateful-lstm, not stateful-gru; drop the architecture, or drop --recipe and give stateful-gru the settings as flags: --lower --min-freq 3.")]
    [InlineData(new[] { "train", "stateful-gru", "--layers", "0" }, "charrnn: --layers 0 is not allowed; give an integer from 1 to 8.")]
    [InlineData(new[] { "train", "stateful-rnn", "--layers", "9" }, "charrnn: --layers 9 is not allowed; give an integer from 1 to 8.")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--dropout", "1" }, "charrnn: --dropout 1 is not allowed; give a number from 0 to 0.95.")]
    [InlineData(new[] { "train", "stateful-gru-cell", "--layers", "2" }, "charrnn: --layers is not a hyperparameter of stateful-gru-cell; it has: --n-fac --n-hidden --bs --bptt --random-bptt.")]
    [InlineData(new[] { "lr-find", "stateful-gru", "--epochs", "2" }, "charrnn: Unrecognized command or argument '--epochs'.")] // the search counts its own steps
    public void A_bad_command_line_gets_one_line_on_stderr_and_exit_code_2(string[] args, string start) => AssertUserError(args, start);

    // A verb's argument left out is named, with what it is and the verb's usage line (System.CommandLine said only
    // "Required argument missing for command: 'add'"); one place does it for every verb.
    [Theory]
    [InlineData(new[] { "keys", "add" }, "charrnn: keys add needs its <name>: who the key is for, e.g. alice or ci. Usage: charrnn keys add <name> [options]. (see charrnn keys add --help)")]
    [InlineData(new[] { "keys", "add", "--admin" }, "charrnn: keys add needs its <name>: who the key is for, e.g. alice or ci. Usage: charrnn keys add <name> [options]. (see charrnn keys add --help)")]
    [InlineData(new[] { "keys", "remove" }, "charrnn: keys remove needs its <name>: the key to remove. Usage: charrnn keys remove <name> [options]. (see charrnn keys remove --help)")]
    [InlineData(new[] { "rename" }, "charrnn: rename needs <model> and <new-name>. Usage: charrnn rename <model> <new-name> [options]. (see charrnn rename --help)")]
    [InlineData(new[] { "rename", "m" }, "charrnn: rename needs its <new-name>: its new name: 1 to 64 characters")]
    [InlineData(new[] { "resume" }, "charrnn: resume needs its <model>: model folder (or a .ckpt file) to continue, or the name of a model in --models. Usage: charrnn resume <model> [options]. (see charrnn resume --help)")]
    [InlineData(new[] { "import" }, "charrnn: import needs its <file>: a .safetensors file written by charrnn export")]
    public void A_missing_argument_is_named_with_the_verbs_usage(string[] args, string start) => AssertUserError(args, start);

    // Other servers take --port and --host: serve's refusal points at its --listen HOST:PORT, with what was typed put in it.
    [Theory]
    [InlineData(new[] { "serve", "--port", "8080" }, "--port", "127.0.0.1:8080")]
    [InlineData(new[] { "serve", "--port=8080" }, "--port=8080", "127.0.0.1:8080")]
    [InlineData(new[] { "serve", "--host", "0.0.0.0" }, "--host", "0.0.0.0:50051")]
    [InlineData(new[] { "serve", "--bind", "[::1]:9000" }, "--bind", "[::1]:9000")]
    [InlineData(new[] { "serve", "--port" }, "--port", "HOST:PORT")]
    public void Serve_refuses_another_servers_address_flag_pointing_at_listen(string[] args, string typed, string listen) =>
        AssertUserError(args, $"charrnn: Unrecognized command or argument '{typed}'. charrnn serve takes its address as one flag, --listen HOST:PORT " +
                              $"(default 127.0.0.1:50051): --listen {listen}. (see charrnn serve --help)");

    // The list of architectures comes from the registry, so a new one needs no edit here.
    [Theory]
    [InlineData(new[] { "train", "--arch", "stateful-lsmt" }, "stateful-lsmt")]
    [InlineData(new[] { "train", "lstm" }, "lstm")]
    [InlineData(new[] { "lr-find", "stateful-lsmt" }, "stateful-lsmt")]
    public void An_unknown_architecture_is_refused_with_every_known_one_and_the_closest(string[] args, string given) =>
        AssertUserError(args, $"charrnn: Argument '{given}' not recognized. Must be one of: "
            + string.Join(", ", CharRnn.Engine.Models.Architectures.All.Select(a => $"'{a.Name}'"))
            + $". Did you mean 'stateful-lstm'? (see charrnn {args[0]} --help)");

    // A learner of the lesson types its names: the model's class and its cs. They are told this project's names, not
    // given a guess ('--cs' was answered "Did you mean '--bs'?", the batch size, and CharSeqStatefulLSTM with nothing).
    [Theory]
    [InlineData(new[] { "train", "CharSeqStatefulLSTM" }, "The lesson's CharSeqStatefulLSTM is stateful-lstm here.")]
    [InlineData(new[] { "train", "--arch", "CharLoopConcatModel" }, "The lesson's CharLoopConcatModel is loop-concat here.")]
    [InlineData(new[] { "lr-find", "charseqstatefulrnn2" }, "The lesson's CharSeqStatefulRnn2 is stateful-rnn-cell here.")]
    public void The_lessons_name_for_an_architecture_is_answered_with_this_projects(string[] args, string answer) =>
        AssertUserError(args, $"charrnn: Argument '{args[^1]}' not recognized. Must be one of: "
            + string.Join(", ", CharRnn.Engine.Models.Architectures.All.Select(a => $"'{a.Name}'"))
            + $". {answer} (see charrnn {args[0]} --help)");

    [Fact]
    public void The_lessons_cs_is_answered_with_context_not_a_guess_at_bs() =>
        AssertUserError(["train", "seq-rnn", "--cs", "8"], "charrnn: Unrecognized command or argument '--cs'. The lesson's cs is --context here " +
                                                           "(a windowed model's window; a stateful one reads --bptt characters a step). (see charrnn train --help)");

    [Fact]
    public void A_run_that_fails_for_another_reason_than_its_input_prints_one_line_and_exits_1()
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        int code;
        try
        {
            code = CharRnnCommandLine.Run(["boom"], root =>
            {
                var boom = new System.CommandLine.Command("boom");
                boom.SetAction(new Func<System.CommandLine.ParseResult, int>(_ => throw new InvalidOperationException("the weights hold NaN")));
                root.Subcommands.Add(boom);
            });
        }
        finally { Console.SetError(previous); }
        Assert.Equal(1, code); // README: a failed run exits 1; 2 is for bad input
        Assert.Equal("charrnn: the weights hold NaN (InvalidOperationException; set CHARRNN_DEBUG=1 for the stack trace)", error.ToString().TrimEnd());
    }

    [Theory]
    [InlineData(new[] { "--models", "/srv/models", "models" }, "charrnn: --models goes after the verb: charrnn models --models ... (before it, it is an option of the interactive client).")]
    [InlineData(new[] { "--server", "gpu:50051", "train" }, "charrnn: --server is an option of the interactive client, not of charrnn train: charrnn train works on a local folder; on the server, run the REPL's command: charrnn --server gpu:50051 --exec \"train ...\".")]
    [InlineData(new[] { "--server", "gpu:50051", "models" }, "charrnn: --server is an option of the interactive client, not of charrnn models: charrnn models works on a local folder; on the server, run the REPL's command: charrnn --server gpu:50051 --exec \"models\".")]
    [InlineData(new[] { "--server", "gpu:50051", "generate", "m" }, "charrnn: --server is an option of the interactive client, not of charrnn generate: charrnn generate works on a local folder; on the server, run the REPL's command: charrnn --server gpu:50051 --exec \"use MODEL; gen N\".")]
    [InlineData(new[] { "--server", "gpu:50051", "lr-find" }, "charrnn: --server is an option of the interactive client, not of charrnn lr-find (see charrnn lr-find --help).")] // no REPL counterpart
    public void The_clients_options_before_a_verb_are_refused_not_ignored(string[] args, string message)
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        int code;
        try
        {
            // As Program.cs gives the root (the interactive client) its own options.
            code = CharRnnCommandLine.Run(args, root =>
            {
                root.Options.Add(CommonOptions.ModelsDir());
                root.Options.Add(new System.CommandLine.Option<string?>("--server"));
            });
        }
        finally { Console.SetError(previous); }
        Assert.Equal(2, code);
        Assert.Equal(message, error.ToString().TrimEnd());
    }

    [Theory]
    [InlineData("--device cpu")]
    [InlineData("--models /tmp/elsewhere")]
    [InlineData("--threads 1")]
    [InlineData("--generation-precision bf16")]
    public async Task The_embedded_servers_options_with_server_are_refused_not_ignored(string option)
    {
        var charrnn = $"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}'";
        var (code, stderr) = await Shell($"{charrnn} --server 127.0.0.1:1 {option} --exec status");
        Assert.Equal(2, code);
        var name = option.Split(' ')[0];
        Assert.Equal($"charrnn: {name} sets up the embedded server, and with --server none is started: the server there has its own; drop {name} or --server.", stderr.Trim());
    }

    private static System.Diagnostics.Process StartServe(params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "charrnn.dll"), "serve", "--threads", "1" }.Concat(args))
            start.ArgumentList.Add(arg);
        return CharRnn.Engine.Runtime.AsyncSignalMask.StartProcess(start);
    }

    [Fact]
    public async Task Serve_on_all_interfaces_prints_the_address_bound_not_localhost_and_its_version()
    {
        var root = Path.Combine(Path.GetTempPath(), "charrnn-serve-all-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var keys = Path.Combine(root, "keys.json");
        CharRnn.ModelServer.Security.ApiKeyStore.Load(keys).Add("ops", admin: true);
        using var process = StartServe("--listen", "0.0.0.0:0", "--keys", keys, "--models", Path.Combine(root, "models"));
        try
        {
            _ = process.StandardError.ReadToEndAsync(); // the log, unread: a full pipe would stop the server
            var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Matches(@"^charrnn server listening on http://0\.0\.0\.0:\d+/, all interfaces \(gRPC, HTTP/2 without TLS\); version \d+\.\d+", first);
            Assert.Contains($"; version {CharRnn.ModelServer.Services.CatalogService.Version};", first);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task Serve_prints_its_address_on_stdout_and_logs_on_stderr()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-serve-" + Guid.NewGuid().ToString("N")[..8]);
        using var process = StartServe("--listen", "127.0.0.1:0", "--models", models);
        try
        {
            var stderr = Task.Run(async () => // the log's lines up to the warning
            {
                var lines = new List<string>();
                while (await process.StandardError.ReadLineAsync() is { } line)
                {
                    lines.Add(line);
                    if (line.Contains("Authentication is OFF", StringComparison.Ordinal)) break;
                }
                return lines;
            });
            var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Matches(@"^charrnn server listening on http://127\.0\.0\.1:\d+/ ", first); // the bound port, first: a script reads it
            var port = Regex.Match(first!, @":(\d+)/").Groups[1].Value;
            var log = await stderr.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Contains($"Authentication is OFF: no API keys configured; listening on loopback only (http://127.0.0.1:{port}", log[^1]);
            // The models folder did not exist: made, and said once (a typo would otherwise look like a server with no models).
            Assert.Single(log, l => l.Contains(" info: ", StringComparison.Ordinal) && l.EndsWith($"Created the models folder {models} (it was missing)", StringComparison.Ordinal));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            if (Directory.Exists(models)) Directory.Delete(models, true);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" ; ;")]
    public async Task An_exec_line_with_no_command_is_a_usage_error_and_starts_no_server(string line)
    {
        // A models folder of its own: a server started would make it.
        var models = Path.Combine(Path.GetTempPath(), "charrnn-exec-empty-" + Guid.NewGuid().ToString("N")[..8]);
        var (code, stderr) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --models '{models}' --threads 1 --exec '{line}'");
        var made = Directory.Exists(models);
        if (made) Directory.Delete(models, true);
        Assert.Equal(2, code);
        Assert.Equal("charrnn: --exec needs at least one REPL command, and was given none; give them separated by ';', e.g. --exec \"models; use NAME; gen 200\" " +
                     "(--exec help lists the commands).", stderr.Trim());
        Assert.False(made);
    }

    [Fact]
    public async Task The_embedded_servers_corpora_folder_that_does_not_exist_is_refused_not_served_empty()
    {
        // A models folder of its own: were --corpora not refused, the server started would make it.
        var models = Path.Combine(Path.GetTempPath(), "charrnn-corpora-" + Guid.NewGuid().ToString("N")[..8]);
        var (code, stderr) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --corpora /nonexistent/corpora --models '{models}' --threads 1 --exec corpora");
        if (Directory.Exists(models)) Directory.Delete(models, true);
        Assert.Equal(2, code);
        Assert.StartsWith("charrnn: --corpora '/nonexistent/corpora' does not exist; give a folder of *.txt files", stderr.Trim());
    }

    [Fact]
    public async Task The_embedded_servers_generation_precision_is_checked_as_serves_and_status_says_it()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-precision-").FullName;
        try
        {
            var charrnn = $"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --models {root}/models --corpora {root}/corpora --device cpu --threads 1";
            Directory.CreateDirectory(Path.Combine(root, "corpora"));
            File.WriteAllText(Path.Combine(root, "corpora", "tiny.txt"), TuiFixture.TinyText);
            var (code, stderr) = await Shell($"{charrnn} --generation-precision bfloat16 --exec status");
            Assert.Equal(2, code);
            Assert.StartsWith("charrnn: --generation-precision 'bfloat16' is not a precision; use float32 (the default: exact) or bf16 (", stderr.Trim());
            Assert.False(Directory.Exists(Path.Combine(root, "models")), "a server was started"); // an embedded server makes its models folder
            var stdout = Path.Combine(root, "out.txt");
            (code, stderr) = await Shell($"{charrnn} --generation-precision bf16 " +
                                         $"--exec \"train stateful-lstm corpus=tiny name=l n_hidden=8 n_fac=4 bs=4 max_steps=1 sample_chars=0; use l; status\" > {stdout}");
            if (Engine.Runtime.MklBf16Weight.WhyUnavailable is { } why)
            {
                // As serve refuses it: the server does not start, and the reason is said.
                Assert.Equal(2, code);
                Assert.Contains($"--generation-precision bf16 is not available on this device: {why}; use float32 (the default).", stderr);
                return;
            }
            Assert.True(code == 0, stderr);
            var lines = File.ReadAllLines(stdout);
            Assert.Contains(lines, l => l.StartsWith("using l (stateful-lstm, bf16 generation) · ", StringComparison.Ordinal));
            Assert.Contains(lines, l => Regex.IsMatch(l, @"^server http://127\.0\.0\.1:\d+/? · cpu · .* · stateful-lstm generates in bf16, others in float32 · 1 session\(s\)"));
            Assert.Contains(lines, l => Regex.IsMatch(l, @"^session \S+ on l \(bf16 generation\) · "));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public async Task A_token_without_a_server_is_refused_not_ignored()
    {
        var (code, stderr) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --token abc --models /nonexistent/models --exec status");
        Assert.Equal(2, code);
        Assert.Equal("charrnn: --token is a key for a shared server, and without --server HOST:PORT the embedded one (which needs none) is started; add --server or drop --token.", stderr.Trim());
    }

    [Fact]
    public void Exec_refuses_a_mistyped_command_line_before_it_starts_a_server_or_runs_any_of_it()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-exec-typo-" + Guid.NewGuid().ToString("N")[..8]);
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        int code;
        try { code = TuiApp.Exec(new ClientOptions(null, null, new ModelServer.Hosting.ServerOptions { ModelsDirectory = models }), "models; gen 5 'for thos"); }
        finally { Console.SetError(previous); }
        Assert.Equal(1, code);
        Assert.Equal("error: Unclosed ' quote in: gen 5 'for thos", error.ToString().Trim());
        Assert.False(Directory.Exists(models), "an embedded server was started (it makes its models folder) for commands that could not run");
    }

    /// <summary>An embedded server on <paramref name="root"/>/models, offering the tiny corpus as "tiny".</summary>
    private static (ClientOptions Options, string Models) EmbeddedOnTinyCorpus(string root)
    {
        var (models, corpora) = (Path.Combine(root, "models"), Path.Combine(root, "corpora"));
        Directory.CreateDirectory(corpora);
        Directory.CreateDirectory(models); // made by the run, it would add its note to the stderr these tests read
        File.WriteAllText(Path.Combine(corpora, "tiny.txt"), TuiFixture.TinyText);
        return (new ClientOptions(null, null, new ModelServer.Hosting.ServerOptions { ModelsDirectory = models, CorporaDirectory = corpora, Device = "cpu" }), models);
    }

    [Fact]
    public void Exec_sessions_lists_none_on_a_fresh_server_and_closing_an_unknown_id_says_no_such_session() => InTempFolder(root =>
    {
        var (options, _) = EmbeddedOnTinyCorpus(root);
        var (output, error, previous) = (new StringWriter(), new StringWriter(), (Console.Out, Console.Error));
        Console.SetOut(output);
        Console.SetError(error);
        int code;
        try { code = TuiApp.Exec(options, "sessions; sessions close s-0123456789abcdef"); }
        finally { Console.SetOut(previous.Out); Console.SetError(previous.Error); }
        Assert.Equal(1, code);
        Assert.Equal("No open sessions.", output.ToString().Trim());
        Assert.StartsWith("error: No session 's-0123456789abcdef': it was closed, it expired after ", error.ToString().Trim());
    });

    [Fact]
    public void Exec_stops_its_line_at_a_training_job_that_fails() => InTempFolder(root =>
    {
        var (options, models) = EmbeddedOnTinyCorpus(root);
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        int code;
        // The job starts, then fails: another run (a `charrnn train --out` into it) writes that model's folder.
        using (CharRnn.Engine.Checkpoints.ModelFolder.HoldForTraining(Path.Combine(models, "held")))
        {
            try { code = TuiApp.Exec(options, "train stateful-rnn name=held corpus=tiny max_steps=3 n_hidden=8 bs=4; train stateful-rnn name=after corpus=tiny max_steps=3 n_hidden=8 bs=4"); }
            finally { Console.SetError(previous); }
        }
        Assert.Equal(1, code);
        Assert.Contains("Another charrnn train or resume is writing to", error.ToString());
        Assert.False(Directory.Exists(Path.Combine(models, "after")), "the line went on after the failed job");
    });

    [Fact]
    public void Exec_checks_a_later_commands_training_keys_and_sampling_values_with_the_server_before_it_runs_any() => InTempFolder(root =>
    {
        var (options, models) = EmbeddedOnTinyCorpus(root);
        string Run(string commands, int expectedCode)
        {
            var error = new StringWriter();
            var previous = Console.Error;
            Console.SetError(error);
            try { Assert.Equal(expectedCode, TuiApp.Exec(options, commands)); }
            finally { Console.SetError(previous); }
            return error.ToString().Trim();
        }
        const string first = "train stateful-rnn name=first corpus=tiny max_steps=3 n_hidden=8 bs=4";
        // Hyperparameters are the architecture's, known only to the server: a typo among them was found after the first job.
        Assert.StartsWith("error: 'n_hiden' is not an option here; stateful-gru takes ", Run($"{first}; train stateful-gru name=second n_hiden=8", 1));
        Assert.False(Directory.Exists(Path.Combine(models, "first")), "the first train ran before the second one's typo was found");
        Assert.StartsWith("error: n_hidden=many is not a whole number; give 1 to ", Run($"{first}; train stateful-gru name=second n_hidden=many", 1));
        Assert.Equal("error: t=abc is not a number; give 0 (greedy) to 10, like 0.5 or 2e-3.", Run($"{first}; use first; gen 40 t=abc", 1).Split('\n')[0]);
        Assert.StartsWith("error: epochs=0 is not allowed", Run($"{first}; resume first epochs=0", 1));
        Assert.False(Directory.Exists(Path.Combine(models, "first")), "the first command ran before a later one's error was found");
    });

    [Fact]
    public async Task Keys_added_while_another_change_holds_the_file_wait_for_it_and_both_are_kept()
    {
        var root = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8]);
        var path = Path.Combine(root, "keys.json");
        Directory.CreateDirectory(root);
        try
        {
            Task<int> adding;
            using (CharRnn.ModelServer.Security.ApiKeyStore.HoldForChange(path)) // another `charrnn keys add`, mid-change
            {
                CharRnn.ModelServer.Security.ApiKeyStore.Load(path).Add("alice", admin: false);
                adding = Task.Run(() => Quietly(["keys", "add", "bob", "--keys", path]));
                await Task.Delay(300);
                Assert.False(adding.IsCompleted, "keys add went ahead while the file was being changed");
            }
            Assert.Equal(0, await adding.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(["alice", "bob"], CharRnn.ModelServer.Security.ApiKeyStore.Load(path).Keys.Select(k => k.Name));
            Assert.False(File.Exists(path + ".lock"));
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }

    [Fact]
    public void Keys_add_and_remove_warn_as_every_charrnn_warning_does_when_the_files_owner_cannot_be_kept() => InTempFolder(root =>
    {
        // Only root can hand a file to another user and drop to one that cannot keep it: elsewhere there is nothing to see.
        if (Environment.UserName != "root" || !OperatingSystem.IsLinux()) return;
        File.SetUnixFileMode(root, (UnixFileMode)0b111_111_111); // the unprivileged run below writes its copy here
        var path = Path.Combine(root, "keys.json");
        CharRnn.ModelServer.Security.ApiKeyStore.Load(path).Add("ops", admin: true);
        File.SetUnixFileMode(path, (UnixFileMode)0b110_100_100);
        foreach (var args in new[] { "add bob", "remove bob" })
        {
            Run("chown", $"1234:1234 {path}"); // the server's user, which user 65534 cannot give the rewritten file to
            var stderr = Run("setpriv", $"--reuid=65534 --regid=65534 --clear-groups dotnet {typeof(KeysCommand).Assembly.Location} keys {args} --keys {path}");
            Assert.Contains($"\ncharrnn: warning: Keys file {path} was owned by user 1234, group 1234; this user (uid 65534) cannot", "\n" + stderr);
        }

        string Run(string file, string args)
        {
            var start = new System.Diagnostics.ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["HOME"] = root;
            using var process = System.Diagnostics.Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"{file} {args}: exit {process.ExitCode}; {error.Result}");
            return error.Result;
        }
    });

    [Fact]
    public void Keys_add_refuses_a_keys_file_whose_folder_is_missing_and_does_not_make_it() => InTempFolder(root =>
    {
        var folder = Path.Combine(root, "no-such-folder");
        AssertUserError(["keys", "add", "bob", "--keys", Path.Combine(folder, "keys.json")],
            $"charrnn: --keys '{Path.Combine(folder, "keys.json")}' cannot be written: its folder '{folder}' does not exist; create it first");
        Assert.False(Directory.Exists(folder), "keys add made the missing folder");
    });

    [Fact]
    public void Yes_no_flags_take_the_words_the_hyperparameter_flags_take() => InTempFolder(root =>
    {
        var path = Path.Combine(root, "keys.json");
        Quietly(["keys", "add", "alice", "--admin", "yes", "--keys", path]);
        Quietly(["keys", "add", "bob", "--admin", "off", "--keys", path]);
        Quietly(["keys", "add", "--admin", "carol", "--keys", path]); // a name after the flag is still the name
        Quietly(["keys", "add", "dave", "--admin=no", "--keys", path]);
        var keys = CharRnn.ModelServer.Security.ApiKeyStore.Load(path).Keys;
        Assert.Equal(["alice:True", "bob:False", "carol:True", "dave:False"], keys.Select(k => $"{k.Name}:{k.Admin}"));
    });

    [Fact]
    public void A_removed_keys_name_is_listed_as_removed_and_taken_again_only_with_reuse_name() => InTempFolder(root =>
    {
        var path = Path.Combine(root, "keys.json");
        Quietly(["keys", "add", "bob", "--keys", path]);
        Quietly(["keys", "remove", "bob", "--keys", path]);
        var (output, previous) = (new StringWriter(), Console.Out);
        Console.SetOut(output);
        try { Assert.Equal(0, CharRnnCommandLine.Run(["keys", "list", "--keys", path])); }
        finally { Console.SetOut(previous); }
        Assert.Matches(@"^bob\s+user\s+created \S+ \S+\s+removed \d{4}-\d\d-\d\d \d\d:\d\d\s*$", output.ToString().Replace("No keys in use in " + path + ". Add one: charrnn keys add NAME [--admin]" + Environment.NewLine, ""));
        AssertUserError(["keys", "remove", "bob", "--keys", path], "charrnn: Key 'bob' was removed already, on ");
        AssertUserError(["keys", "add", "bob", "--keys", path], "charrnn: Key name 'bob' belonged to a key removed on ");
        Quietly(["keys", "add", "bob", "--reuse-name", "--keys", path]);
        Assert.Equal("bob", Assert.Single(CharRnn.ModelServer.Security.ApiKeyStore.Load(path).Keys).Name);
    });

    /// <summary>keys list --json: an array a script reads, each key's times in UTC with its zone, as models --json writes them; it had no --json.</summary>
    [Fact]
    public void Keys_list_json_gives_each_key_its_role_and_times_in_utc() => InTempFolder(root =>
    {
        var path = Path.Combine(root, "keys.json");
        Quietly(["keys", "add", "alice", "--admin", "--keys", path]);
        Quietly(["keys", "add", "bob", "--keys", path]);
        Quietly(["keys", "remove", "bob", "--keys", path]);
        using var json = System.Text.Json.JsonDocument.Parse(Printed(["keys", "list", "--keys", path, "--json"]));
        var keys = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(["alice:True", "bob:False"], keys.Select(k => $"{k.GetProperty("name").GetString()}:{k.GetProperty("admin").GetBoolean()}"));
        var stored = CharRnn.ModelServer.Security.ApiKeyStore.Load(path).Entries;
        Assert.Equal(stored.Select(k => k.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)),
            keys.Select(k => k.GetProperty("created").GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, keys[0].GetProperty("removed").ValueKind);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", keys[1].GetProperty("removed").GetString());
        var empty = Path.Combine(root, "empty.json");
        File.WriteAllText(empty, "[]");
        Assert.Equal("[]", Printed(["keys", "list", "--keys", empty, "--json"]).Trim()); // no "No keys" sentence inside the JSON
    });

    [Fact]
    public void Removing_a_mistyped_key_name_suggests_the_key_it_likely_meant() => InTempFolder(root =>
    {
        var path = Path.Combine(root, "keys.json");
        Quietly(["keys", "add", "temb", "--keys", path]);
        Quietly(["keys", "add", "alice", "--keys", path]);
        AssertUserError(["keys", "remove", "tenb", "--keys", path], $"charrnn: No key named 'tenb' in {path}; charrnn keys list shows them. Did you mean 'temb'?");
        Assert.Equal(2, CharRnn.ModelServer.Security.ApiKeyStore.Load(path).Keys.Count); // nothing removed
    });

    [Fact]
    public void Numbers_in_the_usual_forms_are_read()
    {
        var parse = CharRnnCommandLine.Build().Parse(["generate", "--model", "m", "-t", "8e-1", "--top-p", ".9", "--min-p", "5e-2", "-n", "+12", "--seed", "18446744073709551615"]);
        Assert.Empty(parse.Errors);
        Assert.Equal(0.8, parse.GetValue<double>("--temperature"), 12);
        Assert.Equal(0.9, parse.GetValue<double>("--top-p"), 12);
        Assert.Equal(0.05, parse.GetValue<double>("--min-p"), 12);
        Assert.Equal(12, parse.GetValue<int>("-n"));
        Assert.Equal(ulong.MaxValue, parse.GetValue<ulong?>("--seed"));
    }

    [Fact]
    public async Task Generate_piped_into_a_reader_that_leaves_stops_rather_than_running_on() => await WithBigModel(async models =>
    {
        var (code, stderr) = await ReadThenLeave(["generate", "--model", Path.Combine(models, "m", "last.ckpt"), "-n", "1000000", "--threads", "1"]);
        Assert.Equal(0, code);
        Assert.Matches(@"^\(seed \d+: --seed \d+ gives this text again\)\s*$", stderr); // named first, and no error after
    });

    [Fact]
    public async Task Exec_piped_into_a_reader_that_leaves_ends_quietly_with_exit_0() => await WithBigModel(async models =>
    {
        var gens = string.Concat(Enumerable.Repeat("; gen 100000", 30)); // 3,000,000 chars
        var (code, stderr) = await ReadThenLeave(["--models", models, "--threads", "1", "--exec", "use m" + gens]);
        Assert.Equal(0, code);
        Assert.DoesNotContain("error", stderr);
    });

    /// <summary>
    /// A models folder holding "m", a model big enough that a million chars take minutes: a run that
    /// went on after its reader left would outlast <see cref="ReadThenLeave"/>'s wait many times over.
    /// </summary>
    private static Task WithBigModel(Func<string, Task> test) => WithModel(256, test);

    /// <summary>A models folder holding "m", a stateful GRU of <paramref name="hidden"/> units trained one step on the tiny corpus.</summary>
    private static async Task WithModel(int hidden, Func<string, Task> test)
    {
        var root = Path.Combine(Path.GetTempPath(), "charrnn-model-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        try
        {
            var corpus = Path.Combine(root, "tiny.txt");
            File.WriteAllText(corpus, TuiFixture.TinyText);
            var models = Path.Combine(root, "models");
            Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", Path.Combine(models, "m"), "--max-steps", "1",
                "--n-hidden", hidden.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bs", "4", "--threads", "1"]));
            await test(models);
        }
        finally { Directory.Delete(root, true); }
    }

    /// <summary>Runs charrnn, reads 200 chars of its output and closes the pipe, as `| head -c 200` does; its exit code and stderr.</summary>
    private static async Task<(int Code, string Stderr)> ReadThenLeave(string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args.Prepend(Path.Combine(AppContext.BaseDirectory, "charrnn.dll"))) start.ArgumentList.Add(arg);
        using var process = CharRnn.Engine.Runtime.AsyncSignalMask.StartProcess(start);
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var text = new char[200];
            var read = 0;
            while (read < text.Length)
            {
                var n = await process.StandardOutput.ReadAsync(text.AsMemory(read)).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
                if (n == 0) Assert.Fail("charrnn ended before writing 200 chars: " + await stderr); // (stderr ends only with the process)
                read += n;
            }
            process.StandardOutput.Close();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            return (process.ExitCode, await stderr);
        }
        finally { if (!process.HasExited) process.Kill(entireProcessTree: true); }
    }

    /// <summary>charrnn in a process of its own, its output redirected, for a test to signal (its thread mask set as a shell's child's is).</summary>
    private static System.Diagnostics.Process StartCharrnn(string[] args)
    {
        // Through env: a test host started in the background by a non-interactive shell (`make test &`) has SIGINT ignored, and a
        // child keeps that, as charrnn then rightly does (lr-find ran all its steps and exited 0); a terminal's foreground job has the default.
        var start = new System.Diagnostics.ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "charrnn.dll") }) start.ArgumentList.Add(arg);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return CharRnn.Engine.Runtime.AsyncSignalMask.StartProcess(start);
    }

    /// <summary>Reads the process's stdout up to the first line that starts with <paramref name="start"/>; fails if it ends first.</summary>
    private static async Task ReadUntil(System.Diagnostics.Process process, string start)
    {
        string? line;
        do line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        while (line != null && !line.StartsWith(start, StringComparison.Ordinal));
        Assert.True(line != null, $"no line starting '{start}' before the output ended");
    }

    [Fact]
    public async Task A_train_ended_by_a_hang_up_saves_a_checkpoint_and_exits_129_as_a_shell_reports_SIGHUP()
    {
        var root = Path.Combine(Path.GetTempPath(), "charrnn-hup-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        try
        {
            var corpus = Path.Combine(root, "tiny.txt");
            File.WriteAllText(corpus, TuiFixture.TinyText);
            var folder = Path.Combine(root, "m");
            using var process = StartCharrnn(["train", "stateful-gru", "--corpus", corpus, "--out", folder,
                "--epochs", "1000", "--n-hidden", "8", "--bs", "8", "--bptt", "8", "--sample-chars", "0", "--threads", "1"]);
            try
            {
                var stderr = process.StandardError.ReadToEndAsync();
                await ReadUntil(process, "epoch   2"); // redirected, so plain lines: the second epoch's, by which it has trained and saved
                // The main thread trains, so the signal must land on another (see AsyncSignalMask).
                var status = File.ReadAllText($"/proc/{process.Id}/task/{process.Id}/status");
                var mask = Convert.ToUInt64(status.Split('\n').Single(l => l.StartsWith("SigBlk:", StringComparison.Ordinal))["SigBlk:".Length..].Trim(), 16);
                Assert.True((mask >> (1 - 1) & 1) == 1 && (mask >> (2 - 1) & 1) == 1 && (mask >> (15 - 1) & 1) == 1, $"the training thread's mask is {mask:x}");
                using (var hup = System.Diagnostics.Process.Start("kill", ["-HUP", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
                    await hup.WaitForExitAsync();
                var rest = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                Assert.True(129 == process.ExitCode, $"exit code {process.ExitCode}; stderr: {await stderr}; stdout ends: {rest}");
                Assert.Contains("stopped: ", rest, StringComparison.Ordinal);
                Assert.Equal("stopped", Engine.Checkpoints.CheckpointFile.ReadMetadata(Path.Combine(folder, "last.ckpt")).Reason);
            }
            finally { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public async Task Lr_find_stopped_by_ctrl_c_prints_what_it_found_so_far_and_exits_130()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-lrfind-").FullName;
        try
        {
            var corpus = Path.Combine(root, "tiny.txt");
            File.WriteAllText(corpus, TuiFixture.TinyText);
            // Rates too low to blow up, and the most steps: it runs until stopped.
            var (code, rest, stderr) = await InterruptedAtLine(["lr-find", "stateful-gru", "--corpus", corpus, "--start-lr", "1e-9", "--end-lr", "1e-6",
                "--steps", "10000", "--n-hidden", "8", "--bs", "8", "--threads", "1"], "lr-find: up to 10000 steps", after: TimeSpan.FromSeconds(1.5)); // some steps taken
            Assert.True(130 == code, $"exit code {code}; stderr: {stderr}; stdout ends: {rest}");
            Assert.Matches(@"ended: stopped on request after \d+ steps\n", rest);
            Assert.Contains("suggested lr: ", rest, StringComparison.Ordinal);
            Assert.StartsWith("Stopping the search after this batch, then showing what it found", stderr);
            Assert.Equal([Path.GetFileName(corpus)], Directory.GetFileSystemEntries(root).Select(Path.GetFileName)); // nothing saved
        }
        finally { Directory.Delete(root, true); }
    }

    /// <summary>A stop line names the signal that asked (SIGTERM is not answered with "Ctrl+C again"); the exit code is 128 + its number.</summary>
    [Theory]
    [InlineData(2, "Ctrl+C again to quit at once")]
    [InlineData(15, "SIGTERM received; a second SIGTERM quits at once")]
    public async Task Lr_find_and_train_catch_a_ctrl_c_or_sigterm_sent_as_soon_as_their_start_line_is_read(int signal, string quitAtOnce)
    {
        var root = Directory.CreateTempSubdirectory("charrnn-early-int-").FullName;
        try
        {
            var corpus = Path.Combine(root, "tiny.txt");
            File.WriteAllText(corpus, TuiFixture.TinyText);
            // No delay: the line is where a user (or script) takes the run as started, so Ctrl+C must be caught from there on.
            var (code, stdout, stderr) = await InterruptedAtLine(["lr-find", "stateful-gru", "--corpus", corpus, "--start-lr", "1e-9", "--end-lr", "1e-6",
                "--steps", "10000", "--n-hidden", "8", "--bs", "8", "--threads", "1"], "lr-find: up to 10000 steps", signal: signal);
            Assert.True(128 + signal == code, $"lr-find: exit code {code}; stderr: {stderr}; stdout ends: {stdout}");
            Assert.Matches(@"ended: stopped on request after \d+ steps\n", stdout);
            Assert.StartsWith($"Stopping the search after this batch, then showing what it found ({quitAtOnce})...", stderr);

            var folder = Path.Combine(root, "m");
            (code, stdout, stderr) = await InterruptedAtLine(["train", "stateful-gru", "--corpus", corpus, "--out", folder,
                "--epochs", "1000", "--n-hidden", "8", "--bs", "8", "--bptt", "8", "--sample-chars", "0", "--threads", "1"], "corpus ", signal: signal);
            Assert.True(128 + signal == code, $"train: exit code {code}; stderr: {stderr}; stdout ends: {stdout}");
            Assert.Contains($"Stopping after this batch and saving a checkpoint ({quitAtOnce})...", stdout, StringComparison.Ordinal);
            Assert.Contains("stopped: stopped on request; checkpoint ", stdout, StringComparison.Ordinal);
            Assert.Equal("stopped", Engine.Checkpoints.CheckpointFile.ReadMetadata(Path.Combine(folder, "last.ckpt")).Reason);
        }
        finally { Directory.Delete(root, true); }
    }

    /// <summary>Runs charrnn, sends it <paramref name="signal"/> (default: SIGINT) <paramref name="after"/> (default: at once) a stdout line starting <paramref name="line"/> is read, and returns how it ended.</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> InterruptedAtLine(string[] args, string line, TimeSpan after = default, int signal = 2)
    {
        using var process = StartCharrnn(args);
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            await ReadUntil(process, line);
            await Task.Delay(after);
            Assert.Equal(0, kill(process.Id, signal)); // from here, not a kill process: its start would be a delay
            var rest = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            return (process.ExitCode, rest, await stderr);
        }
        finally { if (!process.HasExited) process.Kill(entireProcessTree: true); }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int kill(int pid, int signal);

    [Fact]
    public async Task Generate_with_min_p_near_1_draws_the_likeliest_char_as_greedy_does() => await WithModel(16, models =>
    {
        var model = Path.Combine(models, "m", "last.ckpt");
        string Text(params string[] sampling) => Printed(["generate", model, "-n", "30", "--prime", "the ", "--seed", "5", "--threads", "1", .. sampling]);
        var greedy = Text("-t", "0");
        Assert.Equal(greedy, Text("-t", "1.5", "--min-p", "0.999999"));
        Assert.NotEqual(greedy, Text("-t", "1.5")); // at that temperature without min-p the seed draws other chars
        return Task.CompletedTask;
    });

    [Fact]
    public async Task Generate_into_a_file_leaves_the_shell_after_its_text_and_a_full_disk_is_a_failed_run() => await WithModel(16, async models =>
    {
        var charrnn = $"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' generate --model {Path.Combine(models, "m", "last.ckpt")} -n 40 --seed 3 --prime 'the ' --threads 1";

        // Two runs and a line after them, into one file, as a shell script does.
        var output = Path.Combine(models, "out.txt");
        var (code, _) = await Shell($"{{ {charrnn}; {charrnn}; echo END; }} > {output}");
        Assert.Equal(0, code);
        var lines = File.ReadAllLines(output);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("the ", lines[0]);
        Assert.Equal(lines[0], lines[1]); // the same seed: the second run was appended, not written over the first
        Assert.Equal("END", lines[2]);

        // A full disk is the machine's failure, not bad input: one line, exit 1.
        (code, var stderr) = await Shell($"{charrnn} > /dev/full");
        Assert.Equal(1, code);
        Assert.Equal("charrnn: cannot write to stdout: No space left on device", stderr.Trim()); // not the model's folder: the output's
    });

    private static async Task<(int Code, string Stderr)> Shell(string script)
    {
        var start = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = CharRnn.Engine.Runtime.AsyncSignalMask.StartProcess(start);
        var stderr = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, stderr);
    }

    [Fact]
    public async Task A_train_that_ends_between_epoch_ends_validates_its_last_weights()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-midepoch-").FullName;
        try
        {
            var corpus = Path.Combine(root, "tiny.txt");
            File.WriteAllText(corpus, TuiFixture.TinyText);
            var output = Path.Combine(root, "out.txt");
            var (code, stderr) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' train --arch stateful-gru --corpus {corpus} " +
                                             $"--out {Path.Combine(root, "m")} --max-steps 2 --n-hidden 8 --bs 4 --threads 1 > {output}");
            Assert.True(code == 0, stderr);
            // Its output on a full disk: the run fails at its first line, before it makes the model's folder.
            var (full, fullError) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' train --arch stateful-gru --corpus {corpus} " +
                                                $"--out {Path.Combine(root, "full")} --max-steps 2 --n-hidden 8 --bs 4 --threads 1 > /dev/full");
            Assert.Equal((1, "charrnn: cannot write to stdout: No space left on device"), (full, fullError.Trim()));
            Assert.False(Directory.Exists(Path.Combine(root, "full")));
            var printed = Regex.Match(File.ReadAllText(output), @"validation loss (\d+\.\d{4}) nats/char, accuracy [\d.]+ % at step 2 \(mid-epoch\)\nfinished: reached --max-steps 2; checkpoint .*\s*$");
            Assert.True(printed.Success, File.ReadAllText(output));
            // Saved with the weights: the model list shows it though no epoch ended.
            var listed = Path.Combine(root, "models.txt");
            Directory.CreateDirectory(Path.Combine(root, "a-name-longer-than-its-column"));
            File.Copy(Path.Combine(root, "m", "last.ckpt"), Path.Combine(root, "a-name-longer-than-its-column", "last.ckpt"));
            (code, stderr) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' models --models {root} > {listed}");
            Assert.True(code == 0, stderr);
            Assert.Matches($@"\nm +stateful-gru +[\d,]+ +0 +{Regex.Escape(printed.Groups[1].Value)} ", File.ReadAllText(listed));
            var lines = File.ReadAllLines(listed);
            Assert.All(lines.Skip(1), line => Assert.Equal(lines[0].IndexOf("ARCH", StringComparison.Ordinal), line.IndexOf("stateful-gru", StringComparison.Ordinal))); // columns line up
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public async Task The_interactive_client_without_a_terminal_refuses_at_once_instead_of_waiting_for_keys()
    {
        var charrnn = $"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --models /nonexistent/models";
        var (code, stderr) = await Shell($"{charrnn} < /dev/null > /dev/null");
        Assert.Equal(2, code);
        Assert.Equal("charrnn: the interactive client needs a terminal, and its input is not one; run commands headless with --exec \"models; use NAME; gen 200\", or a subcommand (charrnn --help).", stderr.Trim());
        // Input from a terminal (script's), output to a file.
        var output = Path.GetTempFileName();
        try
        {
            (code, stderr) = await Shell($"script -qec \"{charrnn} > /dev/null 2> {output}\" /dev/null < /dev/null");
            Assert.Equal(2, code);
            Assert.StartsWith("charrnn: the interactive client needs a terminal, and its output is not one;", File.ReadAllText(output));
        }
        finally { File.Delete(output); }
    }

    [Fact]
    public async Task Exec_with_a_models_folder_it_cannot_use_fails_with_one_line_and_exit_2()
    {
        var (code, stderr) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --exec models --models /etc/hostname");
        Assert.Equal(2, code); // README: a bad --models is a bad argument, --exec or not
        Assert.Equal("error: --models '/etc/hostname' is a file; give a folder (it is made if missing).", stderr.Trim());
        // One that cannot be made is said in --models' terms, not as the file .NET could not find.
        (code, stderr) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --exec models --models /proc/charrnn-models --threads 1");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --models '/proc/charrnn-models' cannot be created: ", stderr.Trim());
        // A --models folder that is not there is made, and said so once: a mistyped one otherwise looks like a folder with no models.
        var fresh = Path.Combine(Path.GetTempPath(), "charrnn-fresh-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            (code, stderr) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --threads 1 --models {fresh} --exec models");
            Assert.Equal(0, code);
            Assert.Equal($"note: the models folder {fresh} did not exist: it was made (a typo in --models?)", stderr.Trim());
            (code, stderr) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --threads 1 --models {fresh} --exec models");
            Assert.Equal((0, ""), (code, stderr.Trim()));
        }
        finally { Directory.Delete(fresh, true); }
        // A malformed --server is a bad argument, refused before anything runs, as the other options are.
        (code, stderr) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --server 127.0.0.1:5x --exec models");
        Assert.Equal(2, code);
        Assert.Equal("charrnn: --server '127.0.0.1:5x' is not an address; use HOST:PORT (e.g. 127.0.0.1:50051) or http(s)://HOST:PORT.", stderr.Trim());
    }

    [Fact]
    public async Task Exec_finds_a_typo_anywhere_in_its_line_before_it_starts_a_server_or_runs_a_command()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-typo-" + Guid.NewGuid().ToString("N")[..8]);
        var charrnn = $"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --models {models} --exec";
        var (code, stderr) = await Shell($"{charrnn} \"train stateful-gru epochs=15; gne 400\"");
        Assert.Equal(1, code);
        Assert.StartsWith("error: Unknown command 'gne'.", stderr.Trim());
        (code, stderr) = await Shell($"{charrnn} \"models; gen 40 tt=1\"");
        Assert.Equal(1, code);
        Assert.Equal("error: gen does not take tt=; it takes t=, k=, p=, min_p=, seed=, stop=. Did you mean 't'?", stderr.Trim());
        Assert.False(Directory.Exists(models), "a server was started"); // an embedded server makes its models folder
    }

    [Fact]
    public async Task Exec_train_then_detach_starts_the_job_and_ends_without_waiting_on_it()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-detach-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "corpora"));
            File.WriteAllText(Path.Combine(root, "corpora", "tiny.txt"), TuiFixture.TinyText);
            var stdout = Path.Combine(root, "out.txt");
            // Shell gives up after 2 minutes: a train that waited on its 1000 epochs would fail the test there.
            var (code, stderr) = await Shell($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' --models {root}/models --corpora {root}/corpora --threads 1 " +
                                             $"--exec \"train stateful-gru corpus=tiny name=left n_hidden=8 epochs=1000 sample_chars=0; detach\" > {stdout}");
            Assert.True(code == 0, stderr);
            Assert.Matches(@"Detached from job j-\w+; it keeps training", File.ReadAllText(stdout));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void A_folder_of_the_same_name_without_a_checkpoint_does_not_hide_a_model_in_models() => InTempFolder(root =>
    {
        var name = "bench-" + Guid.NewGuid().ToString("N")[..6];
        var here = Directory.CreateDirectory(name).FullName; // as `bench/` sits in the repository's root, beside models/
        try
        {
            var models = Path.Combine(root, "models");
            Directory.CreateDirectory(Path.Combine(models, name));
            File.WriteAllText(Path.Combine(models, name, CharRnn.Engine.Training.Trainer.LastCheckpoint), "");
            Assert.Equal(Path.Combine(models, name), ModelArgument.Resolve(name, models));
            File.WriteAllText(Path.Combine(here, CharRnn.Engine.Training.Trainer.BestCheckpoint), ""); // a model folder itself: as written
            Assert.Equal(name, ModelArgument.Resolve(name, models));
        }
        finally { Directory.Delete(here, true); }
    });

    [Fact]
    public void Serving_other_machines_without_keys_is_a_user_error()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-open-" + Guid.NewGuid().ToString("N")[..8]);
        try { AssertUserError(["serve", "--listen", "0.0.0.0:0", "--models", models, "--threads", "1"], "charrnn: Refusing to listen on 0.0.0.0:0 without API keys", logBefore: true); } // after the models folder's making
        finally { if (Directory.Exists(models)) Directory.Delete(models, true); }
    }

    [Fact]
    public void Serving_on_a_port_another_process_holds_is_a_user_error()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        var models = Path.Combine(Path.GetTempPath(), "charrnn-busy-" + Guid.NewGuid().ToString("N")[..8]);
        // Found once the server starts, after its first log lines (on stderr, as its log is): the error is the last line.
        try
        {
            // The flag and the value that named the busy address: with --metrics-listen too, the URL alone leaves it to guess.
            AssertUserError(["serve", "--listen", $"127.0.0.1:{port}", "--models", models, "--threads", "1"],
                $"charrnn: 127.0.0.1:{port} is in use by another process; choose another --listen, or stop that process (Failed to bind to address http://127.0.0.1:{port}", logBefore: true);
            AssertUserError(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", $"127.0.0.1:{port}", "--models", models, "--threads", "1"],
                $"charrnn: 127.0.0.1:{port} is in use by another process; choose another --metrics-listen, or stop that process (Failed to bind to address http://127.0.0.1:{port}", logBefore: true);
        }
        finally { if (Directory.Exists(models)) Directory.Delete(models, true); }
    }

    [Fact]
    public void Serving_on_an_address_this_machine_does_not_have_is_a_user_error_naming_the_flag()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-foreign-" + Guid.NewGuid().ToString("N")[..8]);
        // 192.0.2.1 is TEST-NET-1 (RFC 5737): no machine has it. Found once the server starts, after its first log lines.
        try
        {
            AssertUserError(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "192.0.2.1:9464", "--models", models, "--threads", "1"],
                "charrnn: --metrics-listen 192.0.2.1:9464: this machine has no such address to listen on (", logBefore: true);
        }
        finally { if (Directory.Exists(models)) Directory.Delete(models, true); }
    }

    [Fact]
    public void Training_into_an_out_that_is_a_file_is_a_user_error_before_any_training()
    {
        var file = Path.GetTempFileName();
        try
        {
            AssertUserError(["train", "--arch", "stateful-gru", "--out", file], $"charrnn: --out '{file}' is a file; give a folder");
            AssertUserError(["train", "--arch", "stateful-gru", "--models", file, "--name", "q"], $"charrnn: --models '{file}' is a file; give the folder that holds model folders");
            Assert.Equal(0, new FileInfo(file).Length); // untouched
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void A_tls_certificate_that_cannot_be_read_is_a_user_error() => InTempFolder(root =>
    {
        var cert = Path.Combine(root, "server.pfx");
        File.WriteAllText(cert, "not a certificate");
        AssertUserError(["serve", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--models", Path.Combine(root, "models"), "--threads", "1"],
            $"charrnn: TLS certificate '{cert}' cannot be loaded (");
    });

    [Fact]
    public void A_pem_certificate_without_its_key_and_a_pfx_with_a_key_are_refused_saying_what_goes_with_which() => InTempFolder(root =>
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        using var made = SelfSignedLocalhost(rsa);
        var pem = Path.Combine(root, "server.pem");
        File.WriteAllText(pem, made.ExportCertificatePem());
        var pfx = Path.Combine(root, "server.pfx");
        File.WriteAllBytes(pfx, made.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "secret"));
        var models = Path.Combine(root, "models");
        Directory.CreateDirectory(models);
        // Read as PKCS#12, a PEM certificate failed with an ASN1 error that said nothing of its key.
        AssertUserError(["serve", "--listen", "127.0.0.1:0", "--tls-cert", pem, "--models", models, "--threads", "1"],
            $"charrnn: TLS certificate '{pem}' is a PEM certificate without its private key: give the key with --tls-key KEY.pem (or serve a .pfx file, which holds both).");
        AssertUserError(["serve", "--listen", "127.0.0.1:0", "--tls-cert", pfx, "--tls-key", pem, "--models", models, "--threads", "1"],
            $"charrnn: TLS certificate '{pfx}' is not a PEM certificate, and --tls-key goes only with one; a .pfx file holds its own key: drop --tls-key");
    });

    [Fact]
    public void An_encrypted_pem_key_with_a_wrong_or_missing_passphrase_or_passphrase_file_is_refused_naming_the_key_and_the_flag() => InTempFolder(root =>
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var pem = CertificatePem(root, rsa);
        var key = Path.Combine(root, "server.key");
        File.WriteAllText(key, EncryptedWithRight(rsa));
        var plainKey = Path.Combine(root, "plain.key");
        File.WriteAllText(plainKey, rsa.ExportPkcs8PrivateKeyPem());
        var serve = ServeWithCertificate(root, pem);
        string[] Serve(params string[] tls) => serve(tls);
        AssertUserError(Serve("--tls-key", key, "--tls-password", "wrong"),
            $"charrnn: TLS key '{key}' cannot be decrypted with the --tls-password given (");
        AssertUserError(Serve("--tls-key", key), $"charrnn: TLS key '{key}' is encrypted: give its passphrase with --tls-password-file FILE (its first line), or --tls-password.");
        AssertUserError(Serve("--tls-key", plainKey, "--tls-password", "right"),
            $"charrnn: TLS key '{plainKey}' is not encrypted, and --tls-password goes only with an encrypted key or a .pfx file: drop it.");
        // --tls-password-file: its first line, the same refusals naming it, and the file's own.
        var wrong = Path.Combine(root, "wrong");
        File.WriteAllText(wrong, "right \n"); // only the line end is dropped: a trailing space is the passphrase's
        var empty = Path.Combine(root, "empty");
        File.WriteAllText(empty, "\nright\n");
        var right = Path.Combine(root, "right");
        File.WriteAllText(right, "right\n");
        var missing = Path.Combine(root, "missing");
        AssertUserError(Serve("--tls-key", key, "--tls-password-file", wrong), $"charrnn: TLS key '{key}' cannot be decrypted with the --tls-password-file '{wrong}' given (");
        AssertUserError(Serve("--tls-key", key, "--tls-password-file", empty),
            $"charrnn: --tls-password-file '{empty}' has an empty first line; it must hold the passphrase (the line end is dropped, nothing else is), and a .pfx without a password needs no --tls-password-file.");
        AssertUserError(Serve("--tls-key", key, "--tls-password-file", missing), $"charrnn: --tls-password-file '{missing}' cannot be read (Could not find file");
        AssertUserError(Serve("--tls-key", key, "--tls-password-file", root), $"charrnn: --tls-password-file '{root}' is a folder; give the file whose first line is the passphrase.");
        AssertUserError(Serve("--tls-key", key, "--tls-password-file", "/proc/self/mem"), "charrnn: --tls-password-file '/proc/self/mem' cannot be read ("); // unreadable, even to root
        AssertUserError(Serve("--tls-key", key, "--tls-password", "right", "--tls-password-file", right),
            "charrnn: --tls-password and --tls-password-file both give the passphrase; give one (--tls-password-file keeps it out of the process list).");
    });

    [Fact]
    public void A_key_in_openssls_legacy_encrypted_format_is_refused_with_how_to_convert_it() => InTempFolder(root =>
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var pem = CertificatePem(root, rsa);
        var key = LegacyEncryptedKey(root, rsa);
        var right = Path.Combine(root, "right");
        File.WriteAllText(right, "right\n");
        var serve = ServeWithCertificate(root, pem);
        var refusal = $"charrnn: TLS key '{key}' is encrypted in OpenSSL's legacy format (Proc-Type: 4,ENCRYPTED), which cannot be read here: " +
                      $"convert it to PKCS#8 with openssl pkcs8 -topk8 -in {key} -out key-pkcs8.pem, and give that with --tls-key and its passphrase with --tls-password-file.";
        // With its passphrase it was "not encrypted ... drop it"; without, the crypto library's words for a key it cannot read.
        AssertUserError(serve(["--tls-key", key, "--tls-password-file", right]), refusal);
        AssertUserError(serve(["--tls-key", key]), refusal);
    });

    /// <summary>
    /// <paramref name="key"/> in OpenSSL's legacy encrypted PEM (passphrase "right"), as `openssl rsa -aes256 -traditional`
    /// writes it, at root/legacy.key; without openssl, its headers by hand over the unencrypted key (all that is read of it).
    /// </summary>
    private static string LegacyEncryptedKey(string root, System.Security.Cryptography.RSA key)
    {
        var plain = Path.Combine(root, "plain.key");
        var legacy = Path.Combine(root, "legacy.key");
        File.WriteAllText(plain, key.ExportRSAPrivateKeyPem());
        try
        {
            using var openssl = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("openssl",
                ["rsa", "-in", plain, "-aes256", "-passout", "pass:right", "-traditional", "-out", legacy]) { RedirectStandardError = true })!;
            openssl.StandardError.ReadToEnd();
            openssl.WaitForExit();
            if (openssl.ExitCode == 0) return legacy;
        }
        catch (System.ComponentModel.Win32Exception) { } // no openssl
        var body = Convert.ToBase64String(key.ExportRSAPrivateKey(), Base64FormattingOptions.InsertLineBreaks);
        File.WriteAllText(legacy, $"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,{Convert.ToHexString(new byte[16])}\n\n{body}\n-----END RSA PRIVATE KEY-----\n");
        return legacy;
    }

    [Fact]
    public void A_key_that_is_not_the_certificates_own_is_refused_naming_both_files() => InTempFolder(root =>
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        using var other = System.Security.Cryptography.RSA.Create(2048);
        var pem = CertificatePem(root, rsa);
        var key = Path.Combine(root, "other.key");
        File.WriteAllText(key, other.ExportPkcs8PrivateKeyPem());
        var encrypted = Path.Combine(root, "other-encrypted.key");
        File.WriteAllText(encrypted, EncryptedWithRight(other));
        var serve = ServeWithCertificate(root, pem);
        string[] Serve(params string[] tls) => serve(tls);
        AssertUserError(Serve("--tls-key", key), $"charrnn: TLS key '{key}' is not the private key of certificate '{pem}'");
        AssertUserError(Serve("--tls-key", encrypted, "--tls-password", "right"), $"charrnn: TLS key '{encrypted}' is not the private key of certificate '{pem}'");
    });

    [Fact]
    public void A_tls_file_that_cannot_be_read_is_refused_naming_its_option() => InTempFolder(root =>
    {
        var pem = Path.Combine(root, "server.pem");
        File.WriteAllText(pem, "-----BEGIN CERTIFICATE-----\n"); // PEM, so its key is read (first)
        // A mode-000 file is read by root anyway (the tests may run as root): /proc/self/mem opens for every user, and reading
        // it at offset 0 fails (EIO). It was "Access to the path ... is denied" (or that I/O error), exit 1, naming no option.
        const string unreadable = "/proc/self/mem";
        var serve = ServeWithCertificate(root, pem);
        AssertUserError(serve(["--tls-key", unreadable]), $"charrnn: --tls-key '{unreadable}' cannot be read (");
        AssertUserError(ServeWithCertificate(root, unreadable)([]), $"charrnn: --tls-cert '{unreadable}' cannot be read (");
    });

    private static string EncryptedWithRight(System.Security.Cryptography.RSA key) => key.ExportEncryptedPkcs8PrivateKeyPem("right",
        new System.Security.Cryptography.PbeParameters(System.Security.Cryptography.PbeEncryptionAlgorithm.Aes256Cbc, System.Security.Cryptography.HashAlgorithmName.SHA256, 100_000));

    /// <summary>serve's arguments for certificate <paramref name="pem"/> and the TLS options given, on a models folder made in root.</summary>
    private static Func<string[], string[]> ServeWithCertificate(string root, string pem)
    {
        var models = Path.Combine(root, "models");
        Directory.CreateDirectory(models);
        return tls => ["serve", "--listen", "127.0.0.1:0", "--tls-cert", pem, .. tls, "--models", models, "--threads", "1"];
    }

    /// <summary>A self-signed localhost certificate for <paramref name="key"/>, written as PEM to root/server.pem (its path).</summary>
    private static string CertificatePem(string root, System.Security.Cryptography.RSA key)
    {
        using var made = SelfSignedLocalhost(key);
        var pem = Path.Combine(root, "server.pem");
        File.WriteAllText(pem, made.ExportCertificatePem());
        return pem;
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2 SelfSignedLocalhost(System.Security.Cryptography.RSA key) =>
        new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=localhost", key,
                System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

    [Fact]
    public void Serving_a_models_folder_whose_parent_does_not_exist_is_refused_not_made() => InTempFolder(root =>
    {
        var typo = Path.Combine(root, "no-such-folder", "models");
        AssertUserError(["serve", "--listen", "127.0.0.1:0", "--models", typo, "--threads", "1"],
            $"charrnn: --models '{typo}' does not exist, nor does the folder {Path.Combine(root, "no-such-folder")} it would be made in; give an existing folder, or a new one inside an existing folder (that one is made).");
        Assert.False(Directory.Exists(Path.Combine(root, "no-such-folder"))); // nothing made
    });

    [Theory]
    [InlineData("gpu-0")]
    [InlineData("localhost/")]
    public void A_server_address_without_a_port_is_refused(string address)
    {
        var e = Assert.Throws<ArgumentException>(() => CharRnn.Tui.Client.CharRnnClient.ParseAddress(address));
        Assert.StartsWith($"--server '{address}' is not an address; use HOST:PORT", e.Message);
        Assert.Equal(50051, CharRnn.Tui.Client.CharRnnClient.ParseAddress("gpu-0:50051").Port);
        Assert.Equal(443, CharRnn.Tui.Client.CharRnnClient.ParseAddress("https://gpu-0").Port); // a URL's scheme gives its port
    }

    [Fact]
    public void A_checkpoint_is_found_by_its_models_name_and_a_missing_one_lists_those_there() => InTempFolder(root =>
    {
        var models = Path.Combine(root, "models");
        Directory.CreateDirectory(Path.Combine(models, "g1"));
        foreach (var file in new[] { "last.ckpt", "best.ckpt", "cycle-1.ckpt" }) File.WriteAllText(Path.Combine(models, "g1", file), "");
        Assert.Equal(Path.Combine(models, "g1", "cycle-1.ckpt"), ModelArgument.Resolve("g1/cycle-1.ckpt", models));
        var e = Assert.Throws<ArgumentException>(() => ModelArgument.Resolve("g1/cycle-2.ckpt", models));
        Assert.Equal($"No checkpoint 'cycle-2.ckpt' in {Path.Combine(models, "g1")}; it holds best.ckpt, cycle-1.ckpt, last.ckpt.", e.Message);
        Assert.StartsWith("No model 'g2/best.ckpt': it is not a model folder or .ckpt file", Assert.Throws<ArgumentException>(() => ModelArgument.Resolve("g2/best.ckpt", models)).Message);
    });

    [Fact]
    public void Resuming_a_model_trained_on_a_file_named_like_a_known_corpus_asks_for_that_file() => InTempFolder(root =>
    {
        Directory.CreateDirectory(Path.Combine(root, "mine"));
        var corpus = Path.Combine(root, "mine", "nietzsche.txt"); // not the lesson's text
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 60)));
        var folder = Path.Combine(root, "model");
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, "--max-steps", "2",
            "--threads", "1", "--n-hidden", "8", "--n-fac", "4", "--bs", "4", "--bptt", "4", "--sample-chars", "0"]));
        AssertUserError(["resume", folder, "--max-steps", "4", "--threads", "1"],
            "charrnn: The model was trained on corpus 'nietzsche' (1,440 chars, SHA-256 ");
    });

    [Fact]
    public void Resuming_a_model_trained_on_a_file_asks_for_that_file() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "mytext.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 60)));
        var folder = Path.Combine(root, "model");
        string[] tiny = ["--threads", "1", "--n-hidden", "8", "--n-fac", "4", "--bs", "4", "--bptt", "4", "--sample-chars", "0"];
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, "--max-steps", "2", .. tiny]));
        AssertUserError(["resume", folder, "--max-steps", "4", "--threads", "1"],
            "charrnn: The model was trained on corpus 'mytext' (1,440 chars, SHA-256 ");
        Assert.Equal(0, Quietly(["resume", folder, "--corpus", corpus, "--max-steps", "4", "--threads", "1"]));
        Assert.Equal(4, Engine.Checkpoints.CheckpointFile.ReadMetadata(Path.Combine(folder, "last.ckpt")).Position.Step);

        // A new run into it is refused, naming the option that named the folder.
        AssertUserError(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, .. tiny], $"charrnn: '{folder}' already holds a model; continue it with 'charrnn resume {folder}' or choose another --out.");
        AssertUserError(["train", "--arch", "stateful-gru", "--corpus", corpus, "--models", root, "--name", "model", .. tiny], $"charrnn: '{folder}' already holds a model; continue it with 'charrnn resume {folder}' or choose another --name.");
        AssertUserError(["train", "--arch", "stateful-gru", "--corpus", corpus, "--models", root, "--name", "Model", .. tiny], $"charrnn: A model named 'model' exists in {root}, and names may not differ only in case");

        // A limit it has already passed is refused; none given, a finished run has nothing to do.
        AssertUserError(["resume", folder, "--corpus", corpus, "--max-steps", "3", "--threads", "1"],
            "charrnn: --max-steps 3 is not more than the 4 steps it has trained (it counts steps in total); pass a larger one, or --max-steps 0 to train to --epochs.");
        Assert.StartsWith("Nothing to do: it has reached --max-steps 4 (step 4; 0 of ", Printed(["resume", folder, "--corpus", corpus, "--threads", "1"]));

        // An older checkpoint resumed in place would overwrite the newer last.ckpt.
        var older = Path.Combine(folder, "older.ckpt");
        File.Copy(Path.Combine(folder, "last.ckpt"), older);
        AssertUserError(["resume", older, "--corpus", corpus, "--threads", "1"], $"charrnn: '{older}' is not its folder's last.ckpt");

        // A folder a running server keeps is refused to training outside it (the server holds its lock).
        File.WriteAllText(Path.Combine(root, "charrnn.lock"), "");
        using (new FileStream(Path.Combine(root, "charrnn.lock"), FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            AssertUserError(["resume", folder, "--corpus", corpus, "--max-steps", "6", "--threads", "1"], $"charrnn: A charrnn server is using the models folder {root}");
            // Refused before its corpus and settings lines, which read as if it had started training.
            var (previousOut, printed) = (Console.Out, new StringWriter());
            Console.SetOut(printed);
            try { AssertUserError(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", Path.Combine(root, "other"), .. tiny], $"charrnn: A charrnn server is using the models folder {root}"); }
            finally { Console.SetOut(previousOut); }
            Assert.Equal("", printed.ToString());
        }
        Assert.False(Directory.Exists(Path.Combine(root, "other")));
        Assert.Equal(0, Quietly(["resume", folder, "--corpus", corpus, "--max-steps", "6", "--threads", "1"])); // no server now: the lock file alone is no bar
    });

    [Fact]
    public void Resume_names_its_checkpoints_by_the_path_given_as_train_does() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        // Written as a user might ("./model" from the shell): resume printed it made absolute, train as given.
        var given = root + "/./model";
        string[] tiny = ["--threads", "1", "--n-hidden", "8", "--n-fac", "4", "--bs", "4", "--bptt", "4", "--sample-chars", "0"];
        var checkpoint = $"; checkpoint {given}/last.ckpt";
        Assert.Contains(checkpoint, Printed(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", given, "--max-steps", "2", .. tiny]));
        var resumed = Printed(["resume", given, "--corpus", corpus, "--max-steps", "4", "--threads", "1"]);
        Assert.Contains(checkpoint, resumed);
        Assert.Contains($"saved {given}/last.ckpt (finished, step 4)", resumed);
    });

    [Fact]
    public void Lr_find_help_writes_its_default_rates_as_the_project_writes_numbers()
    {
        // System.CommandLine's own "[default: 1E-07]" is .NET's format, not the 1e-7 every other line here writes.
        var lines = Printed(["lr-find", "--help"]).Split('\n');
        Assert.Contains("(default: 1e-7;", lines.Single(l => l.TrimStart().StartsWith("--start-lr", StringComparison.Ordinal)));
        Assert.Contains("(default: 10,", lines.Single(l => l.TrimStart().StartsWith("--end-lr", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.Contains("E-0", StringComparison.Ordinal) || l.Contains("E+0", StringComparison.Ordinal));
        // --recipe: what of the recipe a search takes, and what it does not.
        var help = Regex.Replace(string.Join(' ', lines), " {2,}", " ");
        Assert.Contains("--recipe <name> Search with a named recipe's architecture and text settings (lowercasing, --min-freq), not its epochs or schedule: the search counts its own steps and sets the rate.", help);
        Assert.Contains("Recipes: lesson (stateful-lstm --lower --min-freq 3).", help);
    }

    [Fact]
    public void Every_verb_that_trains_says_its_corpus_may_be_a_known_corpus_name()
    {
        // demo finds --corpus as train and lr-find do (CorpusResolver: a file or a name such as nietzsche); its help said a file only.
        foreach (var verb in new[] { "train", "lr-find", "demo" })
            Assert.Contains("--corpus <corpus> UTF-8 text file, or a known corpus name (default: nietzsche).", Regex.Replace(Printed([verb, "--help"]), " {2,}", " "));
    }

    [Fact]
    public void Archs_and_train_help_give_the_lessons_recipe_for_its_lstm()
    {
        // The defaults train one epoch at a constant lr: the lesson's SGDR run must be findable where a user looks.
        // The whole lesson: 2 epochs constant, SGDR over 15, a fresh SGDR over 63; the phased schedule quoted for a shell.
        const string recipe = "charrnn train stateful-lstm --lower --epochs 80 --schedule 'constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2' --min-freq 3";
        Assert.Contains("--recipe lesson  " + recipe, Printed(["archs"]));
        var help = Printed(["train", "--help"]).ReplaceLineEndings(" ");
        Assert.Contains("--recipe lesson trains the lesson's LSTM with the lesson's whole schedule", help);
        Assert.Contains(recipe, System.Text.RegularExpressions.Regex.Replace(help, " {2,}", " "));
    }

    [Fact]
    public void Train_recipe_lesson_fills_in_the_lessons_settings_and_flags_given_override_them() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        string[] tiny = ["--corpus", corpus, "--max-steps", "1", "--threads", "1", "--n-hidden", "8", "--n-fac", "4", "--bs", "4", "--bptt", "4", "--sample-chars", "0"];
        var printed = "";
        Engine.Checkpoints.CheckpointMetadata Trained(string name, params string[] args)
        {
            printed = Printed(["train", "--recipe", "lesson", "--out", Path.Combine(root, name), .. args, .. tiny]);
            return Engine.Checkpoints.CheckpointFile.ReadMetadata(Path.Combine(root, name, "last.ckpt"));
        }
        var lesson = Trained("lesson");
        // The settings the run goes by are printed, so a user sees the recipe took effect.
        Assert.Contains("\ntraining: --epochs 80 · --optimizer adam · --lr 0.01 · --wd 1e-5 · --schedule constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; " +
                        "sgdr:cycle_len=1,cycle_mult=2 · --max-steps 1 · --lower true · --min-freq 3\n", printed.ReplaceLineEndings("\n"));
        Assert.Equal("stateful-lstm", lesson.Architecture);
        Assert.Equal((true, 80, "constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2", 3),
            (lesson.Training.Lowercase, lesson.Training.Epochs, lesson.Training.Schedule, lesson.Training.MinFrequency));
        Assert.Equal((1e-2, 1e-5), (lesson.Training.LearningRate.Recurrent, lesson.Training.WeightDecay.Recurrent)); // the lesson's lr and Adam's wd
        var overridden = Trained("overridden", "stateful-lstm", "--lower", "false", "--epochs", "2", "--schedule", "constant", "--min-freq", "1");
        Assert.Contains("training: --epochs 2 · --optimizer adam · --lr 0.01 · --wd 1e-5 · --schedule constant · --max-steps 1 · --lower false · --min-freq 1", printed);
        Assert.Equal((false, 2, "constant", 1), (overridden.Training.Lowercase, overridden.Training.Epochs, overridden.Training.Schedule, overridden.Training.MinFrequency));

        AssertUserError(["train", "--recipe", "lessn"], "charrnn: --recipe 'lessn' is not a recipe; known: lesson (stateful-lstm --lower --epochs 80 --schedule 'constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2' --min-freq 3). Did you mean 'lesson'?");
        AssertUserError(["train", "--recipe", "Lesson"], "charrnn: --recipe 'Lesson' is not a recipe; known: lesson (stateful-lstm --lower --epochs 80 --schedule 'constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2' --min-freq 3). Did you mean 'lesson'?"); // exact, as the REPL's recipe= and the architectures
        AssertUserError(["train", "stateful-gru", "--recipe", "lesson", .. tiny], "charrnn: --recipe lesson is for stateful-lstm, not stateful-gru; drop the architecture, or drop --recipe and give stateful-gru the settings as flags: --lower --epochs 80");
    });

    [Fact]
    public void An_engine_refusal_names_each_setting_it_mentions_as_its_flag_not_only_the_first() => InTempFolder(root =>
    {
        var (_, tiny, folder) = OneStepRun(root);
        AssertUserError(["train", "stateful-gru", "--out", folder, "--optimizer", "adamw", "--lr", "5", "--wd", "0.5", .. tiny],
            "charrnn: --lr × --wd = 5 × 0.5 is not allowed with adamw, whose decay multiplies the weights by 1 − lr·wd each step; their product must be below 1 (use a smaller --lr or --wd).");
        AssertUserError(["train", "stateful-gru", "--out", folder, "--optimizer", "adamw", "--lr", "0.1", "--wd", "0.9", "--schedule", "steps:3=20", .. tiny],
            "charrnn: --lr × --wd = 2 × 0.9 (--lr 0.1 at the schedule's peak factor 20) is not allowed with adamw");
        var corpus = Path.Combine(root, "three.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("ab ba ", 50))); // a, b and the space 100 times each
        AssertUserError(["train", "stateful-gru", "--out", folder, .. tiny[2..], "--corpus", corpus, "--min-freq", "1000"],
            "charrnn: --min-freq 1000 leaves 0 of the corpus's 3 distinct character(s) known, fewer than the 2 a model needs: every other character becomes the unknown symbol, " +
            "and there is nothing to learn; use --min-freq 100 or less, which keeps at least 2.");
        // A corpus too short for the sizes given: the sizes to change are named as flags too (the engine's default is bs, context).
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("abcdefghij", 4)));
        AssertUserError(["train", "stateful-gru", "--out", folder, "--corpus", corpus, "--bs", "16", "--threads", "1", "--n-hidden", "8"],
            "charrnn: The corpus has 40 characters: 32 for training and 8 for validation. Cut into --bs 16 streams, training needs at least 32 characters and validation 17 " +
            "(its streams share a char at each cut). Use a smaller --bs or a longer corpus.");
        // lr-find meets it inside the engine's Trainer, and says it as train does; it takes no --val-fraction, so offers none
        // (50 characters fit --bs 16 at train's --val-fraction 0.34 to 0.37).
        AssertUserError(["lr-find", "stateful-gru", "--corpus", corpus, "--bs", "16", "--threads", "1", "--n-hidden", "8", "--steps", "10"],
            "charrnn: The corpus has 40 characters: 32 for training and 8 for validation. Cut into --bs 16 streams, training needs at least 32 characters and validation 17 " +
            "(its streams share a char at each cut). Use a smaller --bs or a longer corpus.");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("abcdefghij", 5)));
        AssertUserError(["lr-find", "stateful-gru", "--corpus", corpus, "--bs", "16", "--threads", "1", "--n-hidden", "8", "--steps", "10"],
            "charrnn: The corpus has 50 characters: 40 for training and 10 for validation. Cut into --bs 16 streams, training needs at least 32 characters and validation 17 " +
            "(its streams share a char at each cut). Use a smaller --bs or a longer corpus.");
        AssertUserError(["train", "stateful-gru", "--out", folder, "--corpus", corpus, "--bs", "16", "--threads", "1", "--n-hidden", "8"],
            "charrnn: The corpus has 50 characters: 40 for training and 10 for validation. Cut into --bs 16 streams, training needs at least 32 characters and validation 17 " +
            "(its streams share a char at each cut). Use a smaller --bs or a longer corpus, or --val-fraction from 0.34 to 0.37.");
        File.WriteAllText(corpus, "abcdefghijab");
        AssertUserError(["train", "rnn", "--out", folder, "--corpus", corpus, "--context", "10", "--threads", "1", "--n-hidden", "8"],
            "charrnn: The corpus (12 characters) gives 2 windows of 10 characters: too few to train on and hold out a validation share. " +
            "Use a longer corpus, or a shorter --context (2 or more), or --val-fraction from 0.26 to 0.5.");
    });

    /// <summary>A corpus, the flags of a one-step run of a tiny model on it, and the folder to train it into: for warnings said before training.</summary>
    private static (string Corpus, string[] Tiny, string Folder) OneStepRun(string root)
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        return (corpus, ["--corpus", corpus, "--max-steps", "1", "--threads", "1", "--n-hidden", "8", "--n-fac", "4", "--bs", "4", "--bptt", "4", "--sample-chars", "0"],
            Path.Combine(root, "m"));
    }

    [Fact]
    public void Train_and_resume_warn_when_epochs_stop_an_sgdr_cycle_midway() => InTempFolder(root =>
    {
        var (corpus, tiny, folder) = OneStepRun(root);
        var said = PrintedAndSaid(["train", "stateful-gru", "--out", folder, "--epochs", "10", "--schedule", "sgdr:cycle_len=1,cycle_mult=2", .. tiny]).Error;
        Assert.Contains("charrnn: warning: cycles end after epochs 1, 3, 7, 15; --epochs 10 stops mid-cycle, the rate still at 69% of its peak (--epochs 7 or 15 ends at a cycle's end).", said);
        var resumed = PrintedAndSaid(["resume", folder, "--corpus", corpus, "--max-steps", "2", "--epochs", "20", "--threads", "1",
            "--schedule", "constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2"]).Error;
        Assert.Contains("cycles end after epochs 3, 5, 9, 17, 33; --epochs 20 stops mid-cycle", resumed); // the SGDR phase counts from epoch 2
        var atEnd = PrintedAndSaid(["resume", folder, "--corpus", corpus, "--max-steps", "3", "--epochs", "17", "--threads", "1"]).Error;
        Assert.DoesNotContain("mid-cycle", atEnd);
    });

    [Fact]
    public void Train_and_resume_warn_when_the_patience_is_shorter_than_an_sgdr_cycle_after_a_restart() => InTempFolder(root =>
    {
        var (corpus, tiny, folder) = OneStepRun(root);
        var said = PrintedAndSaid(["train", "stateful-gru", "--out", folder, "--epochs", "7", "--schedule", "sgdr:cycle_len=1,cycle_mult=2", "--patience", "2", .. tiny]).Error;
        Assert.Contains("charrnn: warning: --patience 2 is shorter than the SGDR cycle of epochs 4 to 7 (4 epochs): a restart raises the validation loss", said);
        // resume keeps the model's patience, and warns by it; one that outlasts the cycles is not warned.
        Assert.Contains("--patience 2 is shorter than the SGDR cycle of epochs 8 to 15 (8 epochs)",
            PrintedAndSaid(["resume", folder, "--corpus", corpus, "--max-steps", "2", "--epochs", "15", "--threads", "1"]).Error);
        Assert.DoesNotContain("--patience", PrintedAndSaid(["resume", folder, "--corpus", corpus, "--max-steps", "3", "--epochs", "15", "--patience", "8", "--threads", "1"]).Error);
    });

    [Fact]
    public void Resume_at_a_stored_rate_of_0_is_warned_by_that_rate_not_by_an_lr_flag_it_was_not_given() => InTempFolder(root =>
    {
        var (corpus, tiny, folder) = OneStepRun(root);
        Assert.Contains("charrnn: warning: --lr 0: no weight will change", PrintedAndSaid(["train", "stateful-gru", "--out", folder, "--lr", "0", .. tiny]).Error);
        var stored = PrintedAndSaid(["resume", folder, "--corpus", corpus, "--max-steps", "2", "--threads", "1"]).Error;
        Assert.Contains("charrnn: warning: the model's stored learning rate is 0: no weight will change, every layer group's rate being 0; " +
                        "give a rate above 0 on the resume (--lr 1e-3, or one per group as --lr 0,1e-3,1e-3) to train.", stored);
        Assert.DoesNotContain("--lr 0:", stored);
        // --lr 0 given on the resume: the flag's own warning.
        Assert.Contains("charrnn: warning: --lr 0: no weight will change", PrintedAndSaid(["resume", folder, "--corpus", corpus, "--max-steps", "3", "--lr", "0", "--threads", "1"]).Error);
        Assert.DoesNotContain("no weight will change", PrintedAndSaid(["resume", folder, "--corpus", corpus, "--max-steps", "4", "--lr", "1e-3", "--threads", "1"]).Error);
    });

    /// <summary>
    /// A corpus of random letters in <paramref name="root"/>, the flags of a tiny run on it and its folder: nothing in
    /// the training text predicts the validation text, so the validation loss soon stops improving (for --patience to end it).
    /// </summary>
    private static (string Corpus, string[] Tiny, string Folder) NoiseRun(string root)
    {
        var random = new Random(3);
        var corpus = Path.Combine(root, "noise.txt");
        File.WriteAllText(corpus, new string(Enumerable.Range(0, 1200).Select(_ => (char)('a' + random.Next(8))).ToArray()));
        return (corpus, ["--corpus", corpus, "--threads", "1", "--n-hidden", "32", "--n-fac", "8", "--bs", "8", "--bptt", "8", "--lr", "0.03", "--sample-chars", "0"], Path.Combine(root, "m"));
    }

    [Fact]
    public void Train_with_patience_stops_early_saying_why_and_resume_keeps_the_patience() => InTempFolder(root =>
    {
        var (corpus, tiny, folder) = NoiseRun(root);
        var printed = Printed(["train", "stateful-gru", "--out", folder, "--epochs", "40", "--patience", "2", .. tiny]);
        Assert.Contains(" · --patience 2 · ", printed); // the settings line
        var last = Engine.Checkpoints.CheckpointFile.ReadMetadata(Path.Combine(folder, "last.ckpt"));
        Assert.True(last.Position.Epoch < 40, $"the run should stop early; it trained {last.Position.Epoch} epochs");
        var best = last.History.MinBy(h => h.ValidLoss)!;
        Assert.Contains(FormattableString.Invariant($"\nstopped early: validation loss has not improved on {best.ValidLoss:F4} (epoch {best.Epoch}) for 2 epochs (--patience 2); checkpoint "),
            printed.ReplaceLineEndings("\n"));
        // The saved patience holds on resume, the count going on: one more epoch without improvement stops it.
        var resumed = Printed(["resume", folder, "--corpus", corpus, "--threads", "1"]);
        Assert.Contains("for 3 epochs (--patience 2)", resumed);
        Assert.Equal(last.Position.Epoch + 1, Engine.Checkpoints.CheckpointFile.ReadMetadata(Path.Combine(folder, "last.ckpt")).Position.Epoch);
        AssertUserError(["resume", folder, "--corpus", corpus, "--patience", "1001"], "charrnn: --patience 1001 is not allowed; give 0 (off) or 1 to 1000 epochs. (see charrnn resume --help)");
    });

    [Fact]
    public void Train_with_a_min_delta_counts_only_larger_drops_and_resume_keeps_it() => InTempFolder(root =>
    {
        var (corpus, tiny, folder) = NoiseRun(root);
        // No epoch on random letters beats the first by half a nat: patience 2 ends the run at epoch 3.
        var printed = Printed(["train", "stateful-gru", "--out", folder, "--epochs", "40", "--patience", "2", "--min-delta", "0.5", .. tiny]);
        Assert.Contains(" · --patience 2 · --min-delta 0.5 · ", printed); // the settings line
        var last = Engine.Checkpoints.CheckpointFile.ReadMetadata(Path.Combine(folder, "last.ckpt"));
        Assert.Equal((3, 0.5), (last.Position.Epoch, last.Training.MinDelta));
        Assert.Contains(FormattableString.Invariant($"\nstopped early: validation loss has not improved on {last.History[0].ValidLoss:F4} (epoch 1) by more than 0.5 for 2 epochs (--patience 2, --min-delta 0.5); checkpoint "),
            printed.ReplaceLineEndings("\n"));
        Assert.Contains("for 3 epochs (--patience 2, --min-delta 0.5)", Printed(["resume", folder, "--corpus", corpus, "--threads", "1"])); // kept
        // --min-delta changes it on resume; with the patience turned off it would do nothing, and is refused.
        // The model's patience is 2: the refusal names the flag that turned it off, not the model.
        AssertUserError(["resume", folder, "--corpus", corpus, "--patience", "0", "--min-delta", "0.1"],
            "charrnn: --min-delta 0.1 only counts with early stopping, and --patience 0 turns it off; add --patience N (the epochs to wait, say 3), or drop --min-delta.");
        Assert.Contains(" epochs (--patience 2, --min-delta 0.01)", Printed(["resume", folder, "--corpus", corpus, "--threads", "1", "--min-delta", "0.01"]));
    });

    [Fact]
    public void Archs_names_the_lessons_class_for_each_architecture()
    {
        // A learner with the notebook open looks for CharSeqStatefulRnn2, not stateful-rnn-cell: each row says which it is.
        var printed = Printed(["archs"]).ReplaceLineEndings("\n");
        Assert.Contains("\nchar3              Three chars in, the fourth out; the recurrence unrolled by hand. The lesson's Char3Model.\n", "\n" + printed);
        foreach (var (here, lesson) in new[] { ("loop", "CharLoopModel"), ("loop-concat", "CharLoopConcatModel"), ("rnn", "CharRnn"), ("seq-rnn", "CharSeqRnn"),
                     ("stateful-rnn", "CharSeqStatefulRnn"), ("stateful-rnn-cell", "CharSeqStatefulRnn2"), ("stateful-gru", "CharSeqStatefulGRU"),
                     ("stateful-gru-cell", "GRUCell"), ("stateful-lstm", "CharSeqStatefulLSTM") })
            Assert.Matches($@"(?m)^{here} +.*\. The lesson's {lesson}\.$", printed);
        // One "the lesson's" a row: stateful-lstm's summary said "the lesson's best model" before the class note.
        Assert.All(printed.Split('\n').Where(l => CharRnn.Engine.Models.Architectures.All.Any(a => l.StartsWith(a.Name + " ", StringComparison.Ordinal))), row => Assert.Single(Regex.Matches(row, "[Tt]he lesson's")));
    }

    /// <summary>
    /// A flag after a yes/no flag is no value meant for it: archs --json --bogus was refused as "--json takes yes or no …
    /// '--bogus' is not one of them"; it is refused as the unknown flag it is, as archs --bogus is.
    /// </summary>
    [Theory]
    [InlineData("archs", "--json", "--bogus")]
    [InlineData("archs", "--json", "-x")]
    public void A_flag_after_a_yes_no_flag_is_refused_as_itself_not_as_the_yes_no_flags_value(string verb, string flag, string unknown) =>
        AssertUserError([verb, flag, unknown], $"charrnn: Unrecognized command or argument '{unknown}'. (see charrnn {verb} --help)");

    [Theory]
    [InlineData("char3", "0.01")] // the lesson: optim.Adam(m.parameters(), 1e-2), then set_lrs(opt, 0.001)
    [InlineData("loop", "0.01")] // CharLoopModel: the same
    [InlineData("loop-concat", "0.001")] // CharLoopConcatModel starts at 1e-3
    [InlineData("rnn", "0.001")]
    [InlineData("seq-rnn", "0.001")] // 1e-2 only with its identity init, a run of its own
    [InlineData("stateful-gru", "0.001")]
    [InlineData("stateful-lstm", "0.01")]
    public void Each_architecture_defaults_to_the_rate_the_lesson_first_trains_it_at(string architecture, string lr)
    {
        var printed = "\n" + Printed(["archs"]).ReplaceLineEndings("\n");
        var section = printed[printed.IndexOf("\n" + architecture + " ", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n\n", StringComparison.Ordinal)];
        Assert.Matches($@"--lr +default {Regex.Escape(lr)} ", section);
    }

    [Fact]
    public void Archs_gives_each_architectures_own_lr_and_wd_and_no_other()
    {
        var printed = Printed(["archs"]);
        var lstm = printed[printed.IndexOf("stateful-lstm ", StringComparison.Ordinal)..];
        Assert.Matches(@"--lr +default 0\.01 ", lstm);
        Assert.Matches(@"--wd +default 1e-5 ", lstm);
        // The options every architecture shares list no lr or wd of their own to contradict the above.
        Assert.DoesNotMatch(@"--lr +default 0\.001", lstm);
        Assert.DoesNotMatch(@"--wd +default 0 ", lstm);
    }

    /// <summary>Runs a verb with its output dropped; a failure's stderr comes back in the assertion.</summary>
    private static int Quietly(string[] args)
    {
        Printed(args);
        return 0;
    }

    /// <summary>Runs charrnn and returns what it printed on stdout; a run that exits other than 0 fails the test.</summary>
    private static string Printed(string[] args) => PrintedAndSaid(args).Out;

    /// <summary>Runs charrnn and returns what it printed on stdout and on stderr; a run that exits other than 0 fails the test.</summary>
    [Theory]
    [InlineData("train")]
    [InlineData("lr-find")]
    [InlineData("demo")]
    public void A_corpus_with_a_nul_is_refused_before_any_line_says_what_it_trains(string verb) => InTempFolder(root =>
    {
        // The Trainer refuses it too, but train printed its corpus and settings lines (lr-find and demo theirs) first.
        var corpus = Path.Combine(root, "wide.txt");
        File.WriteAllBytes(corpus, System.Text.Encoding.Unicode.GetBytes("the quick brown fox\n"));
        string[] args = verb switch
        {
            "train" => ["train", "stateful-gru", "--out", Path.Combine(root, "m"), "--corpus", corpus, "--max-steps", "1", "--threads", "1"],
            "lr-find" => ["lr-find", "stateful-gru", "--corpus", corpus, "--steps", "20", "--threads", "1"],
            _ => ["demo", "--corpus", corpus, "--time-budget", "1s", "--threads", "1"],
        };
        var (code, output, error) = Ran(args);
        Assert.Equal("", output);
        Assert.Equal("charrnn: Corpus 'wide' has a NUL character (U+0000) at line 1, column 2, which every model's vocabulary holds as padding, not as text; "
                     + "its NULs fall where UTF-16LE's would: it looks like UTF-16LE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-16LE -t UTF-8).", error.TrimEnd());
        Assert.Equal(2, code);
        Assert.Equal(["wide.txt"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName)); // no model folder
    });

    [Fact]
    public void A_checkpoint_that_cannot_be_written_fails_the_run_saying_what_is_kept_and_how_to_continue() => InTempFolder(root =>
    {
        // A write that fails at an epoch's end, as on a full disk: best.ckpt cannot replace the folder a user left in its place,
        // after last.ckpt was written whole. The line said only the write's error: a cron log read it without what to do next.
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        var folder = Path.Combine(root, "m");
        Directory.CreateDirectory(Path.Combine(folder, "best.ckpt"));
        var (code, output, error) = Ran(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, "--epochs", "2", "--n-hidden", "8", "--n-fac", "4",
            "--bs", "4", "--sample-chars", "0", "--threads", "1"]);
        Assert.Equal(1, code);
        var step = CharRnn.Engine.Checkpoints.CheckpointFile.ReadMetadata(Path.Combine(folder, "last.ckpt")).Position.Step;
        Assert.Equal($"charrnn: failed: could not write a checkpoint: Is a directory : '{Path.Combine(folder, "best.ckpt")}'; {Path.Combine(folder, "last.ckpt")} is whole, " +
                     $"as of step {step}: charrnn resume {folder} continues from it once a checkpoint can be written there.", error.Trim());
        Assert.DoesNotContain("failed", output);

        // A run that saved nothing says so.
        var fresh = Path.Combine(root, "fresh");
        Directory.CreateDirectory(Path.Combine(fresh, "last.ckpt"));
        Directory.CreateDirectory(Path.Combine(fresh, "best.ckpt"));
        (code, _, error) = Ran(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", fresh, "--epochs", "1", "--n-hidden", "8", "--n-fac", "4",
            "--bs", "4", "--sample-chars", "0", "--threads", "1"]);
        Assert.Equal(1, code);
        Assert.EndsWith("; no checkpoint of this run was saved: run it again once one can be written there.", error.Trim());
    });

    [Fact]
    public void A_model_folder_that_cannot_be_made_is_refused_before_any_line_says_what_it_trains() => InTempFolder(root =>
    {
        // train printed its corpus and settings lines, then the refusal: a cron log read as a run that started.
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        var belowAFile = Path.Combine(corpus, "m");
        foreach (var (folder, refusal) in new[]
                 {
                     (corpus, $"--out '{corpus}' is a file; give a folder for the model's checkpoints (it is made if missing)."),
                     (belowAFile, $"--out '{belowAFile}' cannot be written: '{corpus}' is a file, not a folder; give a folder for the model's checkpoints (it is made if missing)."),
                     ("/proc/charrnn-m", "--out '/proc/charrnn-m' cannot be written: "), // /proc: a folder not even root may write in
                 })
        {
            var (code, output, error) = Ran(["train", "stateful-gru", "--out", folder, "--corpus", corpus, "--max-steps", "1", "--threads", "1"]);
            Assert.Equal("", output);
            Assert.StartsWith("charrnn: " + refusal, error, StringComparison.Ordinal);
            Assert.Equal(2, code);
            Assert.False(folder != corpus && Directory.Exists(folder)); // nothing made
        }
    });

    private static (string Out, string Error) PrintedAndSaid(string[] args)
    {
        var (code, output, error) = Ran(args);
        if (code != 0) Assert.Fail($"charrnn {string.Join(' ', args)} exited {code}: {error}");
        return (output, error);
    }

    /// <summary>charrnn's exit code, stdout and stderr, whatever the code.</summary>
    private static (int Code, string Out, string Error) Ran(string[] args)
    {
        var (previous, previousError, output, error) = (Console.Out, Console.Error, new StringWriter(), new StringWriter());
        Console.SetOut(output);
        Console.SetError(error);
        int code;
        try { code = CharRnnCommandLine.Run(args); }
        finally { Console.SetOut(previous); Console.SetError(previousError); }
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Lr_find_searches_a_fresh_model_saving_nothing_and_prints_a_plot_a_suggestion_and_a_train_line_that_runs() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        string[] search = ["lr-find", "stateful-gru", "--corpus", corpus, "--n-hidden", "16", "--n-fac", "4", "--bs", "4", "--wd", "1e-5",
            "--start-lr", "1e-2", "--end-lr", "10", "--steps", "40", "--threads", "1"];
        var lines = Printed(search).TrimEnd().Split('\n');
        Assert.Equal([Path.GetFileName(corpus)], Directory.GetFileSystemEntries(root).Select(Path.GetFileName)); // no model folder, no checkpoint
        // The hyperparameters as the flags that give them, as the train line below types them, not the REPL's n_fac=4.
        Assert.Contains(" chars · stateful-gru --n-fac 4 --n-hidden 16 --layers 1 --dropout 0 --bs 4 --bptt 8 --random-bptt true · ", lines[0]);
        Assert.StartsWith("lr-find: up to 40 steps, lr 1.0e-02 to 1.0e+01", lines[1]);
        Assert.EndsWith(" · --optimizer adam · --wd 1e-5", lines[1]); // as train's settings line writes it, not 1E-05
        var rows = lines.Skip(3).TakeWhile(l => !l.StartsWith("ended: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(15, rows.Count);
        Assert.All(lines[2..^1], l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}")); // all but the heading, the settings line and the train line, which are as long as their words
        Assert.All(rows, r => Assert.Matches(@"^  \d\.\de[+-]\d\d +\d+\.\d{3}  █+▸?( ◂ .*)?$", r));
        Assert.StartsWith("ended: the smoothed loss ", lines[^3]); // it blew up before the 40th step at rates near 10
        Assert.Matches(@"^suggested lr: \d\.\de-\d\d \(steepest fall\) or \d\.\de-\d\d \(lowest loss's \d\.\de[+-]\d\d / 10\)$", lines[^2]);
        var train = lines[^1];
        Assert.Matches($@"^charrnn train stateful-gru --corpus {Regex.Escape(corpus)} --threads 1 --wd 1e-5 --n-fac 4 --n-hidden 16 --bs 4 --lr \d\.\de-\d\d$", train);

        using var json = System.Text.Json.JsonDocument.Parse(Printed([.. search, "--json"]));
        var found = json.RootElement;
        var points = found.GetProperty("points").EnumerateArray().Select(p => (Lr: p.GetProperty("lr").GetDouble(), Smoothed: p.GetProperty("smoothed_loss").GetDouble())).ToList();
        Assert.Equal(found.GetProperty("steps_run").GetInt32(), points.Count);
        Assert.False(found.GetProperty("completed").GetBoolean());
        var ratio = Math.Pow(1000, 1.0 / 39);
        Assert.All(points.Skip(1).Zip(points), pair => Assert.Equal(ratio, pair.First.Lr / pair.Second.Lr, 9)); // exponential, from 1e-2 to 10 over 40 steps
        var suggestion = found.GetProperty("suggestion");
        Assert.InRange(suggestion.GetProperty("steepest_lr").GetDouble(), 1e-2, 10);
        Assert.InRange(suggestion.GetProperty("min_loss_lr").GetDouble(), 1e-2, 10);
        Assert.Equal(train, found.GetProperty("train_command").GetString());

        // The line runs as given (one step here), and trains at the rate it names.
        var folder = Path.Combine(root, "m");
        Printed([.. train.Split(' ')[1..], "--max-steps", "1", "--sample-chars", "0", "--out", folder]);
        Assert.True(File.Exists(Path.Combine(folder, "last.ckpt")));
    });

    [Fact]
    public void Lr_find_recipe_searches_the_recipes_model_and_prints_a_train_line_with_the_recipe_and_only_the_flags_that_change_it() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        string[] sizes = ["--n-hidden", "16", "--n-fac", "4", "--bs", "4", "--bptt", "4"];
        // --lower says what the recipe says (left out of the line); --min-freq 2 changes it (kept).
        var lines = Printed(["lr-find", "--recipe", "lesson", "--corpus", corpus, .. sizes, "--lower", "--min-freq", "2", "--steps", "20", "--start-lr", "1e-3", "--threads", "1"]).TrimEnd().Split('\n');
        Assert.Contains(" · stateful-lstm ", lines[0]); // the recipe's architecture
        Assert.EndsWith(" · --optimizer adam · --wd 1e-5 · --lower true · --min-freq 2", lines[1]); // its lowercasing, the flag's min_freq; the lesson's lr and wd
        var train = lines[^1];
        Assert.Matches($@"^charrnn train --recipe lesson --corpus {Regex.Escape(corpus)} --min-freq 2 --threads 1 --n-fac 4 --n-hidden 16 --bs 4 --bptt 4 --lr \d\.\de-\d\d$", train);

        // The line trains the model searched: the recipe's architecture and text settings, the flag over it, the sizes given.
        var folder = Path.Combine(root, "m");
        Printed([.. train.Split(' ')[1..], "--max-steps", "1", "--sample-chars", "0", "--out", folder]);
        var trained = Engine.Checkpoints.CheckpointFile.ReadMetadata(Path.Combine(folder, "last.ckpt"));
        Assert.Equal(("stateful-lstm", true, 2, 80), (trained.Architecture, trained.Training.Lowercase, trained.Training.MinFrequency, trained.Training.Epochs));
        Assert.Equal(16, trained.HyperParameters["n_hidden"]);
    });

    [Fact]
    public void Lr_find_scales_per_group_rates_together_and_refuses_a_zero_among_them() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        string[] search = ["lr-find", "stateful-gru", "--corpus", corpus, "--n-hidden", "16", "--n-fac", "4", "--bs", "4", "--steps", "20", "--start-lr", "1e-3", "--threads", "1", "--json"];
        using var json = System.Text.Json.JsonDocument.Parse(Printed([.. search, "--lr", "1e-4,1e-3,2e-3"]));
        var line = json.RootElement.GetProperty("train_command").GetString()!;
        var rates = Regex.Match(line, @"--lr (\S+),(\S+),(\S+)$");
        Assert.True(rates.Success, line);
        var (embedding, recurrent, output) = (double.Parse(rates.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), double.Parse(rates.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), double.Parse(rates.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0.1, embedding / recurrent, 1); // the ratio given, kept (to the two figures printed)
        Assert.Equal(2, output / recurrent, 1);
        AssertUserError([.. search, "--lr", "0,1e-3,1e-3"], "charrnn: --lr 0,0.001,0.001 is not allowed here: the search scales every layer group's rate together");
    });

    [Fact]
    public void Eval_scores_a_text_file_as_the_engine_feeding_it_does_as_a_line_or_json_lowercasing_for_a_lowercase_model() => InTempFolder(root =>
    {
        var (folder, corpus) = TrainedOneEpoch(root);
        var text = Path.Combine(root, "short.txt");
        File.WriteAllText(text, TuiFixture.TinyText[..500]); // under 1,024 chars: one stream, every char after the first scored
        var checkpoint = Path.Combine(folder, "best.ckpt");
        var line = Printed(["eval", folder, "--text", text, "--threads", "1"]).TrimEnd();
        var m = Regex.Match(line, $@"^499 chars of {Regex.Escape(text)} scored by {Regex.Escape(checkpoint)} · (\d+\.\d\d) nats/char \((\d+\.\d\d) bits/char, perplexity \d+\.\d\) · (\d+)% top-1$");
        Assert.True(m.Success, line);
        using var json = System.Text.Json.JsonDocument.Parse(Printed(["eval", checkpoint, "--text", text, "--json", "--threads", "1"]));
        var figures = json.RootElement;
        Assert.Equal(499, figures.GetProperty("characters_scored").GetInt64());
        var loss = figures.GetProperty("loss_nats_per_char").GetDouble();
        Assert.Equal(m.Groups[1].Value, loss.ToString("F2", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(loss / Math.Log(2), figures.GetProperty("bits_per_char").GetDouble(), 9);
        Assert.Equal(Math.Exp(loss), figures.GetProperty("perplexity").GetDouble(), 9);

        // Independently: a session fed the first char, then the rest, scores the rest from the state after each char before it.
        using (var trained = CharRnn.Engine.Checkpoints.TrainedModel.Load(checkpoint, TorchSharp.torch.CPU))
        using (var session = new CharRnn.Engine.Sampling.GenerationSession(trained.Model, trained.Vocabulary, new CharRnn.Engine.Sampling.SamplingSettings()))
        {
            session.Feed(TuiFixture.TinyText[..1]);
            var rest = session.Feed(TuiFixture.TinyText[1..500]);
            Assert.Equal(rest.Loss, loss, 4);
            Assert.Equal(rest.Accuracy, figures.GetProperty("accuracy").GetDouble(), 4);
            Assert.True(loss < trained.Vocabulary.UniformLoss, $"{loss} nats/char, no better than guessing ({trained.Vocabulary.UniformLoss})");
        }

        // A model trained lowercased reads the text lowercased, as it trained.
        var lower = Path.Combine(root, "lower");
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", lower, "--max-steps", "2", "--lower", "--n-hidden", "8", "--bs", "4", "--sample-chars", "0", "--threads", "1"]));
        var upper = Path.Combine(root, "upper.txt");
        File.WriteAllText(upper, TuiFixture.TinyText[..500].ToUpperInvariant());
        Assert.Equal(Printed(["eval", lower, "--text", text, "--threads", "1"]).Split(" · ")[1..], Printed(["eval", lower, "--text", upper, "--threads", "1"]).Split(" · ")[1..]);
    });

    [Fact]
    public void A_word_after_a_yes_no_flag_that_names_no_model_is_refused_as_the_flags_but_a_model_name_there_is_the_model() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root); // root/m: the model "m" in --models root
        var text = Path.Combine(root, "short.txt");
        File.WriteAllText(text, TuiFixture.TinyText[..100]);
        AssertUserError(["eval", "--json", "maybe", "--text", text, "--models", root, "--threads", "1"],
            $"charrnn: --json takes yes or no (true/false, yes/no, on/off, 1/0), or nothing for yes; 'maybe' is not one of them, nor a model (a model folder or .ckpt file, or a model in --models '{root}'). (see charrnn eval --help)");
        AssertUserError(["neurons", "--json", "maybe", "--text", text, "--models", root, "--threads", "1"], "charrnn: --json takes yes or no (true/false, yes/no, on/off, 1/0), or nothing for yes; 'maybe' is not one of them, nor a model");
        // A model's name mistyped there gets the model's suggestion, as it does anywhere else.
        AssertUserError(["eval", "--json", "mm", "--text", text, "--models", root, "--threads", "1"],
            $"charrnn: --json takes yes or no (true/false, yes/no, on/off, 1/0), or nothing for yes; 'mm' is not one of them, nor a model (a model folder or .ckpt file, or a model in --models '{root}'). Did you mean 'm'? (see charrnn eval --help)");
        // A real model's name after the flag is the model, by name or by folder.
        using (var json = System.Text.Json.JsonDocument.Parse(Printed(["eval", "--json", "m", "--text", text, "--models", root, "--threads", "1"])))
            Assert.Equal(99, json.RootElement.GetProperty("characters_scored").GetInt64());
        using (var json = System.Text.Json.JsonDocument.Parse(Printed(["eval", "--json", folder, "--text", text, "--threads", "1"])))
            Assert.Equal(99, json.RootElement.GetProperty("characters_scored").GetInt64());
        // Not after a yes/no flag: a missing model is the model's own error.
        AssertUserError(["eval", "maybe", "--json", "--text", text, "--models", root, "--threads", "1"], "charrnn: No model 'maybe': it is not a model folder or .ckpt file");
    });

    [Fact]
    public void Eval_refuses_a_text_it_cannot_score_with_one_line_saying_why() => InTempFolder(root =>
    {
        var (folder, corpus) = TrainedOneEpoch(root);
        string Write(string name, string content)
        {
            var path = Path.Combine(root, name);
            File.WriteAllText(path, content);
            return path;
        }
        var (missing, empty, one, unknown) = (Path.Combine(root, "none.txt"), Write("empty.txt", ""), Write("one.txt", "t"), Write("zq.txt", "the Zebra sat on the Quay. Zzz"));
        var padding = Write("nul.txt", "the cat sat\0on\0 the mat"); // NUL is in every vocabulary as padding: validation would score it silently
        var paddingLater = Write("nul-line-3.txt", "the cat\n\nsat on\0"); // refused before the model is read: the line feeds it does not know are not reached
        AssertUserError(["eval", folder, "--text", missing, "--threads", "1"], $"charrnn: --text '{missing}' does not exist; give the text file to score.");
        AssertUserError(["eval", folder, "--text", root, "--threads", "1"], $"charrnn: --text '{root}' is a folder; give the text file to score.");
        AssertUserError(["eval", folder, "--text", empty, "--threads", "1"], $"charrnn: --text '{empty}' is empty; give a text of at least 2 characters to score.");
        AssertUserError(["eval", folder, "--text", one, "--threads", "1"], $"charrnn: --text '{one}' has 1 character(s); the model needs at least 2 to score one");
        AssertUserError(["eval", folder, "--text", unknown, "--threads", "1"],
            $"charrnn: --text '{unknown}' has 7 character(s) the model's vocabulary does not know, 9 time(s) in all: 'Z' (U+005A), 'b' (U+0062), 'r' (U+0072), 'Q' (U+0051), 'u' (U+0075), 'y' (U+0079), 'z' (U+007A). Nothing was scored: remove them from the text, give --skip-unknown to leave them out and score the rest, ");
        AssertUserError(["eval", folder, "--text", padding, "--threads", "1"],
            $"charrnn: --text '{padding}' contains control character (U+0000) 2 time(s), the first at line 1, column 12 (character 12 of the file), " +
            "which the model's vocabulary holds as padding, not as text the model reads. Nothing was scored: remove it; use only characters of the training corpus (see the model's vocabulary).");
        AssertUserError(["eval", folder, "--text", paddingLater, "--threads", "1"],
            $"charrnn: --text '{paddingLater}' contains control character (U+0000) 1 time(s), the first at line 3, column 7 (character 16 of the file), which ");
        AssertUserError(["eval", folder, "--threads", "1"], "charrnn: Option '--text' is required. (see charrnn eval --help)");
        AssertUserError(["eval", "no-such-model", "--text", corpus, "--models", root, "--threads", "1"], $"charrnn: No model 'no-such-model': it is not a model folder or .ckpt file, nor a model in --models '{root}'");
    });

    /// <summary>A stateful GRU of 8 units trained one epoch on the tiny corpus into ROOT/m (so it has a best.ckpt), and that corpus.</summary>
    private static (string Folder, string Corpus) TrainedOneEpoch(string root)
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        var folder = Path.Combine(root, "m");
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, "--epochs", "1", "--n-hidden", "8", "--n-fac", "4",
            "--bs", "4", "--sample-chars", "0", "--threads", "1"]));
        return (folder, corpus);
    }

    [Fact]
    public void A_damaged_or_missing_last_checkpoint_points_to_resuming_from_the_intact_best_one() => InTempFolder(root =>
    {
        var (folder, corpus) = TrainedOneEpoch(root);
        var (last, best) = (Path.Combine(folder, "last.ckpt"), Path.Combine(folder, "best.ckpt"));
        Assert.True(File.Exists(best));
        var bytes = File.ReadAllBytes(last);
        File.WriteAllBytes(last, bytes[..(bytes.Length / 2)]);
        // The listing says so before a resume finds out.
        Assert.Contains("warning: model 'm': last.ckpt cannot be loaded (it is damaged or truncated", PrintedAndSaid(["models", "--models", root]).Error);
        var hint = $"; its best.ckpt is intact: to resume from it, copy it to last.ckpt (cp '{best}' '{last}').";
        // A damaged file is a fault of the data, not a usage error: a failed run's exit 1, not 2.
        AssertUserError(["resume", folder, "--corpus", corpus, "--epochs", "2", "--threads", "1"], $"charrnn: Checkpoint '{last}' cannot be loaded: it is damaged or truncated",
            exitCode: 1);
        var (previous, error) = (Console.Error, new StringWriter());
        Console.SetError(error);
        try { Assert.Equal(1, CharRnnCommandLine.Run(["resume", folder, "--corpus", corpus, "--epochs", "2", "--threads", "1"])); }
        finally { Console.SetError(previous); }
        Assert.EndsWith(hint, error.ToString().Trim());
        File.Delete(last);
        AssertUserError(["resume", folder, "--corpus", corpus, "--epochs", "2", "--threads", "1"], $"charrnn: Checkpoint '{last}' cannot be loaded: the model folder holds no last.ckpt to resume from{hint}");
        File.Copy(best, last); // as the hint says
        Assert.Equal(0, Quietly(["resume", folder, "--corpus", corpus, "--epochs", "2", "--threads", "1", "--sample-chars", "0"]));
    });

    [Fact]
    public void Models_labels_its_loss_the_best_epochs_and_generate_names_the_checkpoint_a_folder_gives() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        // Beside the latest EPOCHS, a bare VAL LOSS read as the latest epoch's.
        Assert.Matches(@"^NAME +ARCH +PARAMS +EPOCHS +BEST VAL ", Printed(["models", "--models", root]));
        string Stderr(string model) => PrintedAndSaid(["generate", model, "-n", "3", "--seed", "1", "--threads", "1"]).Error;
        Assert.StartsWith($"charrnn: generating from {Path.Combine(folder, "best.ckpt")} (the best epoch's", Stderr(folder));
        Assert.Equal("", Stderr(Path.Combine(folder, "last.ckpt"))); // a checkpoint given is the user's choice: nothing to say
    });

    [Fact]
    public void The_first_plain_progress_line_gives_no_speed_or_eta_measured_over_the_warm_up_step_alone() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        var printed = Printed(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", Path.Combine(root, "m"), "--max-steps", "3",
            "--n-hidden", "8", "--n-fac", "4", "--bs", "4", "--sample-chars", "0", "--threads", "1"]);
        // The run's first step includes libtorch's warm-up: its rate read as 640 c/s, ETA 2m29s, for a 7 s epoch.
        var first = printed.Split('\n').First(l => l.StartsWith("epoch 1 step 1 ", StringComparison.Ordinal));
        Assert.Contains("speed: measuring", first);
        Assert.DoesNotContain("c/s", first);
        Assert.DoesNotContain("ETA", first);
    });

    [Fact]
    public void A_run_that_ends_far_worse_than_a_uniform_guess_is_reported_as_diverged_with_exit_1() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        var (previous, error) = (Console.Error, new StringWriter());
        Console.SetError(error);
        int code;
        try
        {
            code = CharRnnCommandLine.Run(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", Path.Combine(root, "m"), "--lr", "10", "--epochs", "2",
                "--n-hidden", "8", "--n-fac", "4", "--bs", "4", "--sample-chars", "0", "--threads", "1"]);
        }
        finally { Console.SetError(previous); }
        Assert.Equal(1, code);
        Assert.StartsWith("charrnn: failed: Training diverged: validation loss ", error.ToString()); // a cron log greps `charrnn:` for every error
        Assert.Contains("is more than twice what guessing every character equally likely scores", error.ToString());
        Assert.Contains("Lower the learning rate (now 10)", error.ToString());
    });

    [Fact]
    public void A_second_run_into_a_model_folder_being_trained_is_refused_and_a_finished_run_leaves_no_lock() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        var folder = Path.Combine(root, "model");
        string[] train = ["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, "--max-steps", "2", "--n-hidden", "8", "--bs", "4", "--threads", "1"];
        using (CharRnn.Engine.Checkpoints.ModelFolder.HoldForTraining(folder)) // as a `charrnn train` into it that has not saved yet
            AssertUserError(train, $"charrnn: Another charrnn train or resume is writing to '{folder}'");
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder)); // the refused run wrote nothing; the holder's lock went with it

        Assert.Equal(0, Quietly(train));
        Assert.False(File.Exists(Path.Combine(folder, CharRnn.Engine.Checkpoints.ModelFolder.TrainingLockFile)));
        using (CharRnn.Engine.Checkpoints.ModelFolder.HoldForTraining(folder))
        {
            AssertUserError(["resume", folder, "--corpus", corpus, "--max-steps", "4", "--threads", "1"], $"charrnn: Another charrnn train or resume is writing to '{folder}'");
            AssertUserError(train, $"charrnn: Another charrnn train or resume is writing to '{folder}'"); // not "continue it with charrnn resume", which would meet the same lock
        }
        Assert.Equal(0, Quietly(["resume", "model", "--models", root, "--corpus", corpus, "--max-steps", "4", "--threads", "1"])); // once it is free; by name
        Assert.Equal(4, CharRnn.Engine.Checkpoints.CheckpointFile.ReadMetadata(Path.Combine(folder, "last.ckpt")).Position.Step);
        Assert.Equal(0, Quietly(["generate", "--model", "model", "--models", root, "-n", "5", "--seed", "1", "--threads", "1"]));
        Assert.Equal(0, Quietly(["generate", "model", "--models", root, "-n", "5", "--seed", "1", "--threads", "1"])); // named as resume names it
    });

    [Fact]
    public void A_run_that_may_need_more_memory_than_the_machine_has_is_warned_of_before_it_starts() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        AssertWarnedOfMemoryThenRefusedForBs(["train", "--arch", "stateful-lstm", "--corpus", corpus, "--out", Path.Combine(root, "m"), .. TooLargeSizes]);

        InTempFolder(small => // the lesson's sizes: no warning
        {
            var (quiet, before) = (new StringWriter(), Console.Error);
            Console.SetError(quiet);
            try { Assert.Equal(0, CharRnnCommandLine.Run(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", Path.Combine(small, "m"), "--max-steps", "1", "--n-hidden", "8", "--bs", "4", "--threads", "1"])); }
            finally { Console.SetError(before); }
            Assert.DoesNotContain("warning", quiet.ToString());
        });
    });

    [Fact]
    public void An_lr_find_that_may_need_more_memory_than_the_machine_has_is_warned_of_as_train_warns() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        AssertWarnedOfMemoryThenRefusedForBs(["lr-find", "stateful-lstm", "--corpus", corpus, .. TooLargeSizes]);
    });

    /// <summary>Sizes a 2-core machine cannot train; a tiny corpus then refuses bs 8192 before anything is allocated.</summary>
    private static readonly string[] TooLargeSizes = ["--n-hidden", "4096", "--layers", "8", "--bs", "8192", "--bptt", "2048", "--threads", "1"];

    private static void AssertWarnedOfMemoryThenRefusedForBs(string[] args)
    {
        var (error, previous) = (new StringWriter(), Console.Error);
        Console.SetError(error);
        int code;
        try { code = CharRnnCommandLine.Run(args); }
        finally { Console.SetError(previous); }
        Assert.Equal(2, code);
        var lines = error.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^charrnn: warning: by its sizes this run may need up to [\d.]+ GB of memory, more than the [\d.]+ GB this process may use", lines[0]);
        Assert.Contains("Cut into --bs 8192 streams", lines[1]); // the flag, as typed
    }

    [Fact]
    public void A_corpus_too_short_to_train_on_leaves_no_empty_model_folder_behind() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "short.txt");
        File.WriteAllText(corpus, "too short");
        var folder = Path.Combine(root, "model");
        AssertUserError(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, "--threads", "1"], "charrnn: ");
        Assert.False(Directory.Exists(folder), "the refused run left its --out folder");
    });

    [Fact]
    public void Train_takes_the_architecture_as_an_argument_and_makes_the_model_in_models_by_its_name() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        var models = Path.Combine(root, "models");
        Assert.Equal(0, Quietly(["train", "stateful-gru", "--corpus", corpus, "--models", models, "--name", "small", "--max-steps", "2", "--n-hidden", "8", "--bs", "4", "--threads", "1"]));
        Assert.Equal("stateful-gru", Engine.Checkpoints.CheckpointFile.ReadMetadata(Path.Combine(models, "small", "last.ckpt")).Architecture);
        // A name that only begins like a Windows device name (CON, COM1, …) is a name like any other.
        Assert.Equal(0, Quietly(["train", "stateful-gru", "--corpus", corpus, "--models", models, "--name", "com10", "--max-steps", "1", "--n-hidden", "8", "--bs", "4", "--threads", "1"]));
        Assert.True(File.Exists(Path.Combine(models, "com10", "last.ckpt")));
        // Without --name, the folder is the architecture's name, as before.
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-rnn", "--corpus", corpus, "--models", models, "--max-steps", "2", "--n-hidden", "8", "--bs", "4", "--threads", "1"]));
        Assert.True(File.Exists(Path.Combine(models, "stateful-rnn", "last.ckpt")));
        // Listed by name, a small model's size in kilobytes (not "0.0M").
        var listed = Printed(["models", "--models", models]).Split('\n');
        Assert.Matches(@"^small\s+stateful-gru\s+[\d,]+\s+0\s+\d\.\d{4} tiny\s+\d+K  \d{4}-\d\d-\d\d \d\d:\d\d", listed.Single(l => l.StartsWith("small ")));
        Assert.Equal($"No models in '{root}'. Train one: charrnn train stateful-lstm --models {root} --name NAME", Printed(["models", "--models", root]).TrimEnd());
    });

    [Fact]
    public void Generate_without_a_seed_says_on_stderr_which_seed_gives_the_text_again() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "tiny.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText);
        var folder = Path.Combine(root, "model");
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, "--max-steps", "2", "--n-hidden", "8", "--bs", "4", "--threads", "1"]));

        (string Out, string Error) Generate(string temperature, params string[] extra)
        {
            var (output, error) = (new StringWriter(), new StringWriter());
            var (previousOut, previousError) = (Console.Out, Console.Error);
            Console.SetOut(output);
            Console.SetError(error);
            try { Assert.Equal(0, CharRnnCommandLine.Run(["generate", "--model", Path.Combine(folder, "last.ckpt"), "-n", "40", "-t", temperature, "--threads", "1", .. extra])); }
            finally { Console.SetOut(previousOut); Console.SetError(previousError); }
            return (output.ToString(), error.ToString());
        }
        var drawn = Generate("1.5");
        var match = System.Text.RegularExpressions.Regex.Match(drawn.Error, @"^\(seed (\d{1,9}): --seed \1 gives this text again\)");
        Assert.True(match.Success, drawn.Error);
        Assert.DoesNotContain("seed", drawn.Out); // stdout is the text alone, for pipes
        var again = Generate("1.5", "--seed", match.Groups[1].Value);
        Assert.Equal(drawn.Out, again.Out);
        Assert.Equal("", again.Error); // a seed given is not repeated back
        Assert.Equal("", Generate("0").Error); // greedy: no seed changes the text
    });

    private static void InTempFolder(Action<string> test)
    {
        var root = Path.Combine(Path.GetTempPath(), "charrnn-test-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        try { test(root); }
        finally { Directory.Delete(root, true); }
    }

    /// <param name="exitCode">2, a usage error, unless the refusal is of the data (1).</param>
    private static void AssertUserError(string[] args, string start, bool logBefore = false, int exitCode = 2)
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        int code;
        try
        {
            // A `serve` that did not refuse would serve for good: fail instead of holding the run.
            var run = Task.Run(() => CharRnnCommandLine.Run(args));
            Assert.True(run.Wait(TimeSpan.FromSeconds(60)), $"charrnn {string.Join(' ', args)} did not refuse within 60 s");
            code = run.Result;
        }
        finally { Console.SetError(previous); }
        Assert.Equal(exitCode, code);
        var text = error.ToString().TrimEnd('\n', '\r');
        if (logBefore)
        {
            var lines = text.Split('\n');
            Assert.All(lines[..^1], line => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warn): ", line));
            text = lines[^1];
        }
        // Not StartsWith: its message cuts both strings at the same point, hiding where they differ.
        Assert.Equal(start, text[..Math.Min(start.Length, text.Length)]);
        Assert.DoesNotContain('\n', text);
    }
}
