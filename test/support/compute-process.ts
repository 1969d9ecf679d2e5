/**
 * A LocalCompute in a process of its own, for tests that must SIGKILL it: `node --import tsx
 * test/support/compute-process.ts <dataDir> <gpus>`. It recovers its journal, then submits each job
 * spec it reads from stdin (one JSON per line; `{"terminate": "<jobId>"}` terminates one) and writes
 * every state-change event to stdout as one JSON line.
 */
import { createInterface } from 'node:readline';
import { LocalCompute } from '../../infra/local/compute';

const [dataDir, gpus] = process.argv.slice(2);
const compute = new LocalCompute({ dataDir: dataDir!, gpus: Number(gpus), onEvent: (event) => process.stdout.write(`${JSON.stringify(event)}\n`) });
const batchIds = new Map<string, string>();
await compute.recover();
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const message = JSON.parse(line);
  if (message.terminate) await compute.terminate(batchIds.get(message.terminate)!, 'Cancelled by the test');
  else batchIds.set(message.jobId, (await compute.submit(message)).batchJobId);
}
