// Lists the server's models, opens a session on one and prints generated text as it streams in.
//   npm install && node generate.js [--tls-ca FILE] [--skip-unknown] [MODEL] [PRIME]      (CHARRNN_SERVER=HOST:PORT, CHARRNN_TOKEN=KEY)
const { connect, statusText } = require('./channel');
const { parseCommandLine, usageError } = require('./command_line');

const USAGE = 'node generate.js [--tls-ca FILE] [--skip-unknown] [MODEL] [PRIME] [--help]';

// What --help prints under the usage line, as train_on_file.js's does.
const HELP = `
Lists the server's models (on stderr), opens a session on MODEL and prints 400 characters generated after PRIME
as they stream in, then closes the session; the server is CHARRNN_SERVER (default 127.0.0.1:50051), its key
CHARRNN_TOKEN.

  MODEL              the model to generate from (default: the first the server lists)
  PRIME              the text to start from (default: "for thos"; after -- it may start with a -)
  --tls-ca FILE      connect with TLS, trusting the PEM certificate(s) in FILE
  --skip-unknown     leave out of PRIME the characters the model cannot read (the session's unknown_chars
                     UNKNOWN_CHARS_SKIP) and say how many on stderr; without it such a PRIME is refused
  -h, --help         show this help and exit`;

const usage = usageError(USAGE);

const args = process.argv.slice(2);
const { Catalog: catalog, Generation: generation, metadata, unary } = connect(args, ['Catalog', 'Generation'], usage);

// Flags are parsed, not taken for a model's name: --help asked the server for a model called "--help".
const { values, positionals } = parseCommandLine(args, { 'skip-unknown': { type: 'boolean', default: false } },
  { usageLine: USAGE, help: HELP, usage });
if (positionals.length > 2) usage(`at most a MODEL and a PRIME, not ${positionals.length} words (quote a PRIME with spaces)`);

async function main() {
  const { models } = await unary(catalog, 'ListModels', {});
  console.error('models:', models.map((m) => m.name).join(', ') || '(none: train one first)');
  const model = positionals[0] || models[0]?.name;
  if (!model) return;
  const session = await unary(generation, 'OpenSession', {
    model_name: model, sampling: { temperature: 0.8 },
    unknown_chars: values['skip-unknown'] ? 'UNKNOWN_CHARS_SKIP' : 'UNKNOWN_CHARS_REFUSE',
  });
  // The prime goes with Generate: its first message counts what --skip-unknown left out of it (OpenSession's answer would not say).
  const stream = generation.Generate({ session_id: session.id, prime: positionals[1] || 'for thos', max_chars: 400 }, metadata);
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
      if (piece.prime_unknown_chars_skipped > 0) console.error(`${piece.prime_unknown_chars_skipped} unknown char(s) skipped from the prime`);
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
  console.error(statusText(error));
  process.exitCode = 1;
});
