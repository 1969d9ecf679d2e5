import { afterEach, describe, expect, it } from 'vitest';
import type { Compute, ComputeJobSpec } from '../../functions/adapters/compute';

/** A compute backend for one test, and how to tear it down. */
export interface ComputeUnderTest {
  compute: Compute;
  cleanup(): Promise<void>;
}

let seq = 0;
const aJob = (overrides: Partial<ComputeJobSpec> = {}): ComputeJobSpec => ({
  jobId: `job_01contract${String(++seq).padStart(14, '0')}`,
  accountId: 'acct_01contract00000000000000',
  image: 'suanxiang/trainer:1',
  command: ['sleep', '30'],
  env: {},
  gpuType: 'a100',
  gpuCount: 1,
  timeoutSeconds: 60,
  graceSeconds: 0,
  ...overrides,
});

async function until<T>(probe: () => Promise<T | undefined | false>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * What every {@link Compute} adapter must do alike (AWS Batch and the local backend), so the
 * handlers can rely on it whichever runs: submission is idempotent by job id, `describe` answers in
 * the order asked and leaves out what it does not know, and `terminate` ends a job with our reason.
 */
export function computeContract(name: string, make: () => Promise<ComputeUnderTest>) {
  describe(`Compute contract: ${name}`, () => {
    let current: ComputeUnderTest | undefined;
    const given = async () => (current = await make()).compute;
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });

    it('submits a job once, however often it is asked', async () => {
      const compute = await given();
      const job = aJob();
      const first = await compute.submit(job);
      const again = await Promise.all([compute.submit(job), compute.submit(job)]);
      expect(again).toEqual([first, first]);
      const [described] = await compute.describe([first.batchJobId]);
      expect(described).toMatchObject({ batchJobId: first.batchJobId, detail: { jobName: job.jobId, jobId: first.batchJobId, tags: { 'sx:job-id': job.jobId, 'sx:account-id': job.accountId } } });
    });

    it('describes in the order asked and leaves out unknown ids', async () => {
      const compute = await given();
      const a = await compute.submit(aJob());
      const b = await compute.submit(aJob());
      const described = await compute.describe([b.batchJobId, 'no-such-job', a.batchJobId]);
      expect(described.map((d) => d.batchJobId)).toEqual([b.batchJobId, a.batchJobId]);
      expect(described.every((d) => d.status === d.detail.status)).toBe(true);
    });

    it('terminates a job with our reason, and terminating again or an unknown job is a no-op', async () => {
      const compute = await given();
      const { batchJobId } = await compute.submit(aJob());
      await compute.terminate(batchJobId, 'sx:insufficient_balance');
      await compute.terminate(batchJobId, 'sx:another_reason');
      await compute.terminate('no-such-job', 'sx:x');
      const final = await until(async () => (await compute.describe([batchJobId])).find((d) => d.status === 'FAILED'));
      expect(final.detail.statusReason).toBe('sx:insufficient_balance');
    });
  });
}
