// Runs one function's bundle as the Lambda Node.js runtime does: imports the handler module once (init),
// then calls the export with (event, context) for each invocation sent over IPC. Started under Node 22.
import { pathToFileURL } from 'node:url';

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
