// Runs one function's bundle as the Lambda Node.js runtime does: imports the handler module once (init),
// then calls the export with (event, context) for each invocation sent over IPC. Started under Node 22.
import net from 'node:net';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';

// The rehearsal's network: this machine only. An internet address the rehearsal stands a server up for
// (SX_REHEARSAL_INTERNET, {"<public ip>:<port>": <local port>}, e.g. a webhook receiver) is reached at
// that local server; any other address outside the machine is refused at once, so nothing a function
// does leaves the machine and an unexpected call fails instead of waiting. TLS still checks the
// certificate against the public address the function asked for (NODE_EXTRA_CA_CERTS trusts the
// stand-in's CA). Node's HTTP agents open connections through `net.createConnection` and `tls.connect`.
const internet = JSON.parse(process.env.SX_REHEARSAL_INTERNET ?? '{}');
const LOCAL = new Set(['localhost', '127.0.0.1', '::1']);
/** A connection by host and port (an agent's options carry the request's `path` too; a bare `path` is an IPC socket). */
const byHost = (options) => options !== null && typeof options === 'object' && (options.host !== undefined || options.port !== undefined);
function refused(host, port) {
  const socket = new net.Socket();
  process.nextTick(() => socket.destroy(Object.assign(new Error(`connect ECONNREFUSED ${host}:${port} (the rehearsal's network ends at this machine)`), { code: 'ECONNREFUSED' })));
  return socket;
}
const tlsConnect = tls.connect;
tls.connect = function (...args) {
  const options = args[0];
  if (!byHost(options) || options.socket) return tlsConnect.apply(this, args);
  const host = String(options.host ?? 'localhost');
  const local = internet[`${host}:${options.port ?? 443}`];
  if (local !== undefined) return tlsConnect.call(this, { ...options, socket: netConnect({ host: '127.0.0.1', port: local }) }, ...args.slice(1));
  return LOCAL.has(host) ? tlsConnect.apply(this, args) : refused(host, options.port);
};
const netConnect = net.connect;
net.connect = net.createConnection = function (...args) {
  const options = args[0];
  if (!byHost(options)) return netConnect.apply(this, args);
  const host = String(options.host ?? 'localhost');
  return LOCAL.has(host) ? netConnect.apply(this, args) : refused(host, options.port);
};

const [file, exportName] = [process.argv[2], process.argv[3] ?? 'handler'];
const t0 = process.hrtime.bigint();
const mod = await import(pathToFileURL(file).href);
const initMs = Number(process.hrtime.bigint() - t0) / 1e6;
const handler = mod[exportName];
process.send({ type: 'ready', initMs, node: process.version, hasHandler: typeof handler === 'function' });
process.on('message', async ({ id, event, timeoutMs }) => {
  const deadline = Date.now() + timeoutMs;
  const context = {
    awsRequestId: id,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'rehearsal',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(event, context);
    process.send({ type: 'result', id, result });
  } catch (error) {
    process.send({ type: 'error', id, error: { name: error?.name, message: String(error?.message ?? error) } });
  }
});
