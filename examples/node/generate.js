// Lists the server's models, opens a session on one and prints generated text as it streams in.
//   npm install && node generate.js [--tls-ca FILE] [MODEL] [PRIME]      (CHARRNN_SERVER=HOST:PORT, CHARRNN_TOKEN=KEY)
const { connect, statusText } = require('./channel');

const args = process.argv.slice(2);
function usage(problem) {
  console.error(`error: ${problem}; usage: node generate.js [--tls-ca FILE] [MODEL] [PRIME]`);
  process.exit(2);
}
const { Catalog: catalog, Generation: generation, metadata, unary } = connect(args, ['Catalog', 'Generation'], usage);

async function main() {
  const { models } = await unary(catalog, 'ListModels', {});
  console.error('models:', models.map((m) => m.name).join(', ') || '(none: train one first)');
  const model = args[0] || models[0]?.name;
  if (!model) return;
  const session = await unary(generation, 'OpenSession',
    { model_name: model, prime: args[1] || 'for thos', sampling: { temperature: 0.8 } });
  try {
    const stream = generation.Generate({ session_id: session.id, max_chars: 400 }, metadata);
    for await (const piece of stream) process.stdout.write(piece.text);
    process.stdout.write('\n');
  } finally {
    await unary(generation, 'CloseSession', { session_id: session.id }); // a session holds server memory until closed
  }
}

main().catch((error) => {
  console.error(statusText(error));
  process.exitCode = 1;
});
