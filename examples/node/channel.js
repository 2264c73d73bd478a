// What both examples share: the proto loaded at run time, the server's address and credentials
// (CHARRNN_SERVER, --tls-ca FILE), the key's metadata (CHARRNN_TOKEN), and a promise for a unary call.
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

/**
 * Opens clients of the named services (Catalog, Training, Generation) on CHARRNN_SERVER (default 127.0.0.1:50051).
 * --tls-ca FILE in args (taken out of them): TLS, trusting the PEM certificate(s) in FILE (a self-signed server's,
 * or its CA's); without it, plain HTTP/2. usage(problem) is called (and should exit) for a bad --tls-ca.
 */
function connect(args, services, usage) {
  const server = process.env.CHARRNN_SERVER || '127.0.0.1:50051';
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
  const metadata = new grpc.Metadata();
  if (process.env.CHARRNN_TOKEN) metadata.set('authorization', `Bearer ${process.env.CHARRNN_TOKEN}`);
  const clients = Object.fromEntries(services.map((name) => [name, new v1[name](server, credentials)]));
  const unary = (client, method, request) => new Promise((resolve, reject) =>
    client[method](request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
  return { ...clients, metadata, unary };
}

/**
 * A failed call as the server said it: the status's name, its whole message (what was wrong and what is allowed) and
 * the request id (the trailer charrnn-request-id), which finds the call in the server's log.
 */
const statusText = (error) => {
  const request = error.metadata?.get('charrnn-request-id')?.[0];
  return `${grpc.status[error.code] ?? 'error'}: ${error.details ?? error.message}${request ? ` (request ${request})` : ''}`;
};

module.exports = { connect, statusText };
