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
    parsed = parseArgs({ args, allowPositionals: true, options: { ...options, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (e) {
    usage(e.message);
  }
  if (parsed.values.help) {
    console.log(`usage: ${usageLine}\n${help}`);
    process.exit(0);
  }
  return parsed;
}

/** usage(problem): says the problem and the usage line on stderr, and exits 2 (a usage error). */
function usageError(usageLine) {
  return problem => {
    console.error(`error: ${problem}; usage: ${usageLine}`);
    process.exit(2);
  };
}

module.exports = { parseCommandLine, usageError };
