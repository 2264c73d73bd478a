// What both examples' command lines share: their flags parsed (util.parseArgs), --help (-h) answered,
// and a usage error (exit 2) for a flag they do not know, rather than taking it for a name.
const { parseArgs } = require('util');

/**
 * Parses args (after connect has taken --tls-ca out) with the given parseArgs options, --help added.
 * --help prints "usage: USAGE" and help on stdout and exits 0; an unknown or malformed flag calls usage(problem).
 * Returns parseArgs' { values, positionals }.
 */
function parseCommandLine(args, options, { usageLine, help, usage }) {
  let parsed;
  try {
    parsed = parseArgs({ args: negativeValuesJoined(args, options), allowPositionals: true, options: { ...options, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (e) {
    usage(e.message);
  }
  if (parsed.values.help) {
    console.log(`usage: ${usageLine}\n${help}`);
    process.exit(0);
  }
  return parsed;
}

/**
 * `--top-k -1` as `--top-k=-1`: parseArgs refuses a value that starts with a dash as "ambiguous", so a negative number
 * given as its own word would never reach the flag's range check (which says what is allowed). Only for flags that take
 * a value, only for a word that is a number, and not after `--`.
 */
function negativeValuesJoined(args, options) {
  const valued = new Map();
  for (const [name, option] of Object.entries(options)) {
    if (option.type !== 'string') continue;
    valued.set(`--${name}`, name);
    if (option.short) valued.set(`-${option.short}`, name);
  }
  const joined = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--') return joined.concat(args.slice(i));
    if (valued.has(args[i]) && /^-(\d|\.\d)/.test(args[i + 1] ?? '')) joined.push(`--${valued.get(args[i])}=${args[++i]}`);
    else joined.push(args[i]);
  }
  return joined;
}

/** usage(problem): says the problem and the usage line on stderr, and exits 2 (a usage error). */
function usageError(usageLine) {
  return problem => {
    console.error(`error: ${problem}; usage: ${usageLine}`);
    process.exit(2);
  };
}

module.exports = { parseCommandLine, usageError };
