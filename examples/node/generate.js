// Lists the server's models, opens a session on one and prints the prime, then the text generated after it as it streams in.
//   npm install && node generate.js [--tls-ca FILE] [--skip-unknown] [--temperature T] [--top-k K] [--top-p P] [--min-p M]
//     [--seed S] [MODEL] [PRIME]      (CHARRNN_SERVER=HOST:PORT, CHARRNN_TOKEN=KEY)
const { connect, statusText } = require('./channel');
const { parseCommandLine, usageError } = require('./command_line');

const USAGE = 'node generate.js [--tls-ca FILE] [--skip-unknown] [--temperature T] [--top-k K] [--top-p P] [--min-p M] [--seed S] '
  + '[MODEL] [PRIME] [--help]';

// What --help prints under the usage line, as train_on_file.js's does.
const HELP = `
Lists the server's models (on stderr), opens a session on MODEL and prints PRIME, then 400 characters generated
after it as they stream in, then closes the session; the server is CHARRNN_SERVER (default 127.0.0.1:50051), its key
CHARRNN_TOKEN.

  MODEL              the model to generate from (default: the first the server lists)
  PRIME              the text to start from (default: "for thos"; after -- it may start with a -)
  --tls-ca FILE      connect with TLS, trusting the PEM certificate(s) in FILE
  --skip-unknown     leave out of PRIME the characters the model cannot read (the session's unknown_chars
                     UNKNOWN_CHARS_SKIP) and say how many on stderr; without it such a PRIME is refused
  --temperature T    0 (greedy) to 10 (default: 0.8)
  --top-k K          sample among the K likeliest characters (0 or more; default: the server's, 0: all)
  --top-p P          sample from the smallest set of characters whose probability reaches P (more than 0, at most 1;
                     default: the server's, 1: all)
  --min-p M          sample only among the characters at least M times as likely as the likeliest (0 up to, not
                     including, 1; default: the server's, 0: all)
  --seed S           0 or more: the same seed gives the same text (default: drawn by the server)
  -h, --help         show this help and exit`;

const usage = usageError(USAGE);

const args = process.argv.slice(2);
const { Catalog: catalog, Generation: generation, metadata, unary } = connect(args, ['Catalog', 'Generation'], usage);

// Flags are parsed, not taken for a model's name: --help asked the server for a model called "--help".
const samplingFlags = ['temperature', 'top-k', 'top-p', 'min-p', 'seed'];
const { values, positionals } = parseCommandLine(args, {
  'skip-unknown': { type: 'boolean', default: false },
  ...Object.fromEntries(samplingFlags.map((flag) => [flag, { type: 'string' }])),
}, { usageLine: USAGE, help: HELP, usage });
if (positionals.length > 2) usage(`at most a MODEL and a PRIME, not ${positionals.length} words (quote a PRIME with spaces)`);

// The proto's ranges (SamplingSettings), checked here so that a bad value is a usage error before any call. A whole
// number's bounds are BigInts: seed's uint64 goes past a double's exact integers.
const SAMPLING_RANGES = {
  temperature: { low: 0, high: 10, allowed: '0 to 10' },
  'top-k': { low: 0n, high: 2n ** 31n - 1n, allowed: '0 to 2147483647' },
  'top-p': { low: 0, high: 1, aboveLow: true, allowed: 'more than 0, at most 1' },
  'min-p': { low: 0, high: 1, belowHigh: true, allowed: '0 up to, not including, 1' },
  seed: { low: 0n, high: 2n ** 64n - 1n, allowed: '0 or more (below 2^64)' },
};
function samplingValue(flag) {
  const text = values[flag].trim();
  const { low, high, aboveLow, belowHigh, allowed } = SAMPLING_RANGES[flag];
  const whole = typeof low === 'bigint';
  const value = whole ? (/^\d+$/.test(text) ? BigInt(text) : NaN) : (text === '' ? NaN : Number(text));
  const inRange = !Number.isNaN(value) && (aboveLow ? value > low : value >= low) && (belowHigh ? value < high : value <= high);
  if (!inRange) usage(`--${flag} '${values[flag]}' is not allowed; use ${allowed}`);
  return flag === 'seed' ? text : Number(value); // seed is a uint64: sent as its digits (longs: String)
}
// Each given flag's field (top_k, min_p …); one not given is left out, so the server's default applies. Temperature 0.8 unless given.
const sampling = { temperature: 0.8 };
for (const flag of samplingFlags) if (values[flag] !== undefined) sampling[flag.replace('-', '_')] = samplingValue(flag);

let started = false; // the prime and text have begun on stdout: an error then starts a new line, as generate.py's does

async function main() {
  const { models } = await unary(catalog, 'ListModels', {});
  console.error('models:', models.map((m) => m.name).join(', ') || '(none: train one first)');
  const model = positionals[0] || models[0]?.name;
  if (!model) return;
  const session = await unary(generation, 'OpenSession', {
    model_name: model, sampling,
    unknown_chars: values['skip-unknown'] ? 'UNKNOWN_CHARS_SKIP' : 'UNKNOWN_CHARS_REFUSE',
  });
  // The prime goes with Generate: its first message counts what --skip-unknown left out of it (OpenSession's answer would not say).
  const prime = positionals[1] || 'for thos';
  const stream = generation.Generate({ session_id: session.id, prime, max_chars: 400 }, metadata);
  // The reader gone (`node generate.js | head -c 100`): stop quietly, as `charrnn generate | head` does, and cancel
  // the stream so the server stops generating; the session is closed below.
  let readerGone = false;
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    readerGone = true;
    stream.cancel();
  });
  try {
    for await (const piece of stream) {
      if (readerGone) break;
      if (!started) {
        // The prime once the first response shows the call was accepted, as generate.py prints it: as given, for what
        // --skip-unknown left out of it is not known here.
        if (piece.prime_unknown_chars_skipped > 0) console.error(`${piece.prime_unknown_chars_skipped} unknown char(s) skipped from the prime`);
        process.stdout.write(prime);
        started = true;
      }
      process.stdout.write(piece.text);
    }
    if (!readerGone) process.stdout.write('\n');
  } catch (error) {
    if (!readerGone) throw error; // else the CANCELLED of our own cancel
  } finally {
    await unary(generation, 'CloseSession', { session_id: session.id }); // a session holds server memory until closed
  }
}

main().catch((error) => {
  // "error: NOT_FOUND: … (request …)", as generate.py and train_on_file.js say a failed call.
  const text = error.code !== undefined && error.details !== undefined ? `error: ${statusText(error)}` : statusText(error);
  console.error((started ? '\n' : '') + text);
  process.exitCode = 1;
});
