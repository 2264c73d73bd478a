// Lists the server's models, opens a session on one and prints generated text as it streams in.
//   npm install && node generate.js [--tls-ca FILE] [MODEL] [PRIME]      (CHARRNN_SERVER=HOST:PORT, CHARRNN_TOKEN=KEY)
const fs = require('fs');
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
// --tls-ca FILE: TLS, trusting the PEM certificate(s) in FILE (a self-signed server's, or its CA's); without it, plain HTTP/2.
const args = process.argv.slice(2);
let credentials = grpc.credentials.createInsecure();
const caAt = args.indexOf('--tls-ca');
if (caAt >= 0) {
  const file = args[caAt + 1];
  if (!file) usage('--tls-ca needs a FILE, a PEM certificate');
  let pem;
  try { pem = fs.readFileSync(file); } catch (e) { usage(`--tls-ca ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`); }
  // grpc-js takes any bytes here and fails each call with a bare handshake error.
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) usage(`--tls-ca ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  credentials = grpc.credentials.createSsl(pem);
  args.splice(caAt, 2);
}
function usage(problem) {
  console.error(`error: ${problem}; usage: node generate.js [--tls-ca FILE] [MODEL] [PRIME]`);
  process.exit(2);
}
const metadata = new grpc.Metadata();
if (process.env.CHARRNN_TOKEN) metadata.set('authorization', `Bearer ${process.env.CHARRNN_TOKEN}`);
const catalog = new v1.Catalog(server, credentials);
const generation = new v1.Generation(server, credentials);
const unary = (client, method, request) => new Promise((resolve, reject) =>
  client[method](request, metadata, (error, response) => (error ? reject(error) : resolve(response))));

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
  console.error(`${grpc.status[error.code] ?? 'error'}: ${error.details ?? error.message}`);
  process.exitCode = 1;
});
