// Lists the server's models, opens a session on one and prints generated text as it streams in.
//   npm install && node generate.js [MODEL] [PRIME]      (CHARRNN_SERVER=HOST:PORT, CHARRNN_TOKEN=KEY)
const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const protos = path.join(__dirname, '..', '..', 'protos');
// keepCase: fields keep the proto's names (model_name). Without it they are camelCase (modelName),
// and a request written {model_name: 'x'} is sent with model_name empty, silently.
const definition = loader.loadSync(path.join(protos, 'charrnn', 'v1', 'charrnn.proto'),
  { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protos] });
const v1 = grpc.loadPackageDefinition(definition).charrnn.v1;

const server = process.env.CHARRNN_SERVER || '127.0.0.1:50051';
const metadata = new grpc.Metadata();
if (process.env.CHARRNN_TOKEN) metadata.set('authorization', `Bearer ${process.env.CHARRNN_TOKEN}`);
const catalog = new v1.Catalog(server, grpc.credentials.createInsecure());
const generation = new v1.Generation(server, grpc.credentials.createInsecure());
const unary = (client, method, request) => new Promise((resolve, reject) =>
  client[method](request, metadata, (error, response) => (error ? reject(error) : resolve(response))));

async function main() {
  const { models } = await unary(catalog, 'ListModels', {});
  console.error('models:', models.map((m) => m.name).join(', ') || '(none: train one first)');
  const model = process.argv[2] || models[0]?.name;
  if (!model) return;
  const session = await unary(generation, 'OpenSession',
    { model_name: model, prime: process.argv[3] || 'for thos', sampling: { temperature: 0.8 } });
  try {
    const stream = generation.Generate({ session_id: session.id, max_chars: 400 }, metadata);
    for await (const piece of stream) process.stdout.write(piece.text);
    process.stdout.write('\n');
  } finally {
    await unary(generation, 'CloseSession', { session_id: session.id }); // a session holds server memory until closed
  }
}

main().catch((error) => {
  console.error(`${grpc.status[error.code] ?? 'error'}: ${error.details ?? error.message}`);
  process.exitCode = 1;
});
