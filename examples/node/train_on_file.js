// Trains a small model on a text file of your own and sees how well it reads a sentence it never saw:
// uploads FILE as a corpus (UploadCorpus), trains a model on it (StartJob, printing the server's warnings of its
// settings to stderr, then WatchJob, printing its events), opens a
// session on the model, feeds the held-out sentence (Feed, which scores it: nats and bits per char),
// generates a few chars after it, and with --cleanup deletes the corpus again (DeleteCorpus; the model
// stays and still generates). A job the server refuses (a model name taken, a quota) deletes an upload this
// run made new, so it does not count against the key's max_corpora_per_key: CheckJob cannot check the job
// first, since it needs the corpus to be there. The twin of examples/python/train_on_file.py.
//   npm install && node train_on_file.js my-notes.txt --model notes --max-steps 300 --held-out "a sentence kept out of the file"
//   (CHARRNN_SERVER=HOST:PORT, CHARRNN_TOKEN=KEY; --tls-ca FILE for a TLS server)
const fs = require('fs');
const path = require('path');
const { connect, statusText } = require('./channel');
const { parseCommandLine, usageError } = require('./command_line');

const CHUNK_BYTES = 64 * 1024; // each data message; the server takes up to Limits.max_message_bytes (1 MiB or more)
const USAGE = 'node train_on_file.js FILE --model NAME --held-out TEXT [--corpus NAME] [--replace] [--arch ARCH] '
  + '[--max-steps N] [--set NAME=VALUE]... [-n N] [--cleanup] [--tls-ca FILE] [--help]';

// What --help prints under the usage line: each flag, as train_on_file.py's --help says it.
const HELP = `
Uploads FILE as a corpus, trains a model on it, scores a sentence kept out of it (Feed: nats and bits per char),
generates a few chars after it and closes the session; the server is CHARRNN_SERVER (default 127.0.0.1:50051),
its key CHARRNN_TOKEN.

  FILE               a UTF-8 text file to train on
  --model NAME       the model to create (required)
  --held-out TEXT    a sentence not in the file, in its characters, to score the model on (required)
  --corpus NAME      name to upload it as (default: the file's name without its extension)
  --replace          replace an earlier upload of that name
  --arch ARCH        architecture (default: stateful-gru)
  --max-steps N      steps to train, over as many epochs as that takes (default: 300)
  --set NAME=VALUE   a hyperparameter, e.g. n_hidden=128 (repeatable)
  -n N               characters to generate after the sentence (default: 80)
  --cleanup          delete the uploaded corpus at the end (the model stays)
  --tls-ca FILE      connect with TLS, trusting the PEM certificate(s) in FILE
  -h, --help         show this help and exit`;

const usage = usageError(USAGE);

const args = process.argv.slice(2);
const { Catalog: catalog, Training: training, Generation: generation, metadata, unary } =
  connect(args, ['Catalog', 'Training', 'Generation'], usage);

const { values: options, positionals } = parseCommandLine(args, {
  corpus: { type: 'string' }, // default: the file's name without its extension
  replace: { type: 'boolean', default: false }, // replace an earlier upload of that name
  model: { type: 'string' },
  arch: { type: 'string', default: 'stateful-gru' },
  'max-steps': { type: 'string', default: '300' },
  set: { type: 'string', multiple: true, default: [] }, // a hyperparameter, e.g. n_hidden=128
  'held-out': { type: 'string' }, // a sentence not in the file (in its characters: others are refused)
  chars: { type: 'string', short: 'n', default: '80' }, // characters to generate after it
  cleanup: { type: 'boolean', default: false }, // delete the uploaded corpus at the end
}, { usageLine: USAGE, help: HELP, usage });
if (positionals.length !== 1) usage(positionals.length ? `one FILE, not ${positionals.length}` : 'give the FILE to train on');
const file = positionals[0];
if (!options.model) usage('--model NAME is required: the name of the model to create');
if (options['held-out'] === undefined) usage('--held-out TEXT is required: a sentence not in the file, to score the model on');
if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) usage(`${file} is not a file`);

/** A whole number of at least 1 from a flag, else a usage error naming it. */
function count(flag, text) {
  if (!/^\d+$/.test(text) || Number(text) < 1) usage(`${flag} '${text}' is not a whole number of at least 1`);
  return Number(text);
}
const maxSteps = count('--max-steps', options['max-steps']);
const chars = count('-n', options.chars);
const hyperparameters = Object.fromEntries(options.set.map((text) => {
  const at = text.indexOf('=');
  const [name, value] = [text.slice(0, at), text.slice(at + 1)];
  if (at <= 0 || value.trim() === '' || !Number.isFinite(Number(value))) usage(`--set '${text}' is not NAME=VALUE with a number, e.g. n_hidden=256`);
  return [name, Number(value)];
}));
const corpus = options.corpus ?? path.basename(file, path.extname(file));

// What a server too old to report Limits.max_epochs (0) takes by default (`charrnn serve --max-epochs`).
const DEFAULT_MAX_EPOCHS = 10000;
/** Epochs enough that max_steps, not the end of an epoch, ends the job: at most the server's limit. */
const epochsToReach = (steps, maxEpochs) => Math.min(steps, maxEpochs || DEFAULT_MAX_EPOCHS);

const thousands = (n) => Number(n).toLocaleString('en-US');

/** A stopped model's place: '2 epoch(s)' at an epoch's end, else '2 epoch(s) and 32 of 45 steps into epoch 3'. */
function standsAt(epochs, stepsIntoEpoch, batchesInEpoch) {
  if (!stepsIntoEpoch) return `${epochs} epoch(s)`;
  return `${epochs} epoch(s) and ${stepsIntoEpoch} of ${batchesInEpoch} steps into epoch ${epochs + 1}`;
}

/** One job event as a line (as train.py's describe). */
function describe(event) {
  const kind = event.event;
  const e = event[kind];
  switch (kind) {
    // A resume's (or a restarted job's) queued event is at the step it goes on from.
    case 'queued': return `queued at position ${e.position}` + (Number(event.step) ? `, to go on from step ${event.step}` : '');
    case 'started': {
      // A run after a restart (or a resume) goes on from its checkpoint: say so, or the log reads as a fresh start.
      const resumed = Number(e.resumed_from_step) ? `, resumed from step ${e.resumed_from_step}` : '';
      return `started on ${e.device}: ${thousands(e.parameter_count)} parameters, ${e.total_steps} steps${resumed}`;
    }
    case 'progress': {
      const eta = e.eta_seconds != null ? `, ETA ${e.eta_seconds.toFixed(0)}s` : '';
      return `step ${e.step}/${e.total_steps} epoch ${e.epoch_progress.toFixed(2)} loss ${e.loss.toFixed(3)} `
        + `lr ${e.learning_rate.toExponential(1)} ${thousands(Math.round(e.chars_per_second))} chars/s${eta}`;
    }
    case 'epoch_end': {
      const r = e.record;
      return `epoch ${r.epoch}: train ${r.train_loss.toFixed(4)} valid ${r.valid_loss.toFixed(4)} nats/char, `
        + `accuracy ${(100 * r.valid_accuracy).toFixed(1)}%\n  sample: ${JSON.stringify(r.sample)}`;
    }
    case 'checkpoint_saved': return `checkpoint ${e.file} (${e.reason})`;
    case 'finished': case 'stopped': {
      let text = `${kind}: ${e.reason}`;
      // The weights the job left; a job ended between epoch ends (max_steps, its time budget) validated them first.
      if (e.final_valid_loss != null)
        text += ` · validation loss ${e.final_valid_loss.toFixed(4)} nats/char, accuracy ${(100 * e.final_valid_accuracy).toFixed(1)}%`;
      // Where a resume goes on from, which the last progress event may be steps short of (unset, undefined here even with
      // defaults: true, for a job stopped before it started).
      if (kind === 'stopped' && e.epochs_completed != null)
        text += ` · stands at ${standsAt(e.epochs_completed, Number(e.steps_into_epoch), e.batches_in_epoch)} (step ${event.step})`;
      return text;
    }
    case 'failed': return `${kind}: ${e.reason}`;
    default: return kind;
  }
}

/** UploadCorpus: the header first, then the file's bytes in pieces (the server checks the UTF-8); the CorpusInfo. */
function upload() {
  return new Promise((resolve, reject) => {
    const call = catalog.UploadCorpus(metadata, (error, info) => (error ? reject(error) : resolve(info)));
    call.write({ header: { name: corpus, replace: options.replace } });
    const read = fs.createReadStream(file, { highWaterMark: CHUNK_BYTES });
    read.on('data', (chunk) => { if (!call.write({ data: chunk })) { read.pause(); call.once('drain', () => read.resume()); } });
    read.on('end', () => call.end());
    read.on('error', (e) => { call.cancel(); reject(e); }); // the file, not the server: the call's own error is dropped
  });
}

async function main() {
  let uploaded = false; // stored by this run (new, or replacing an earlier upload)
  let newUpload = false; // and not there before: nothing of the key's is lost if it goes again
  let jobStarted = false;
  try {
    // Without --replace an upload of a taken name is refused, so a stored one is new; with it, ask first.
    newUpload = !options.replace
      || !(await unary(catalog, 'ListCorpora', {})).corpora.some((c) => c.name === corpus && c.uploaded);
    const info = await upload();
    uploaded = true;
    console.log(`uploaded corpus ${info.name}: ${thousands(info.characters)} characters, sha256 ${info.sha256.slice(0, 12)}`);

    // The job's default is one epoch, which on a small file ends before max_steps: ask for as many epochs as the
    // server takes (an epoch is at least one step, so max_steps of them reach it) and let max_steps end the run.
    const { limits } = await unary(catalog, 'GetServerInfo', {});
    const request = { model_name: options.model, architecture: options.arch, corpus_name: info.name,
      options: { max_steps: maxSteps, epochs: epochsToReach(maxSteps, limits.max_epochs) }, hyperparameters };
    // StartJob then WatchJob, as Train does in one call, for the Job StartJob answers with: the server's warnings of its
    // settings (Job.warnings: an SGDR cycle cut short, every rate 0, ...), on stderr; the job runs as asked all the same.
    const job = await unary(training, 'StartJob', request);
    jobStarted = true; // StartJob answered: the server has taken the job
    for (const warning of job.warnings ?? []) console.error(`warning: ${warning}`);
    let last;
    for await (const event of training.WatchJob({ job_id: job.id }, metadata)) {
      console.log(describe(event));
      last = event.event;
    }
    if (last !== 'finished') return 1;

    const session = await unary(generation, 'OpenSession', { model_name: options.model });
    try {
      // A fresh session: the first char is scored from the corpus's char frequencies, the rest from the model.
      const score = await unary(generation, 'Feed', { session_id: session.id, text: options['held-out'] });
      console.log(`held-out score: ${score.loss.toFixed(3)} nats/char = ${(score.loss / Math.LN2).toFixed(3)} bits/char `
        + `over ${score.characters_scored} chars, ${Math.round(100 * score.accuracy)}% predicted`);
      let text = '';
      for await (const piece of generation.Generate({ session_id: session.id, max_chars: chars, chars_per_message: 64 }, metadata))
        text += piece.text;
      console.log(`continued: ${options['held-out']}${text}`);
    } finally {
      // Left open, it would hold a place in the key's session quota until it expired; the server gone, or the
      // session closed already, there is nothing to close.
      await unary(generation, 'CloseSession', { session_id: session.id }).catch(() => {});
    }
    return 0;
  } catch (error) {
    console.error(error.code !== undefined && error.details !== undefined ? `error: ${statusText(error)}` : `error: ${file}: ${error.message}`);
    return 1;
  } finally {
    // A refused job leaves no new upload behind: it would hold a place in the key's max_corpora_per_key.
    const refused = uploaded && newUpload && !jobStarted;
    if (uploaded && (options.cleanup || refused)) {
      try {
        await unary(catalog, 'DeleteCorpus', { name: corpus });
        console.log(`deleted corpus ${corpus}${options.cleanup ? '' : ': the job was not started'}`);
      } catch (error) {
        console.error(`error: deleting corpus ${corpus}: ${statusText(error)}`);
      }
    }
  }
}

main().then((code) => { process.exitCode = code; });
