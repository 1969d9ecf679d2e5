import { describe, expect, it } from 'vitest';
import { decideJob, failureReason, jobDecider, type JobCommand } from '../../../domain/job/decide';
import { TIMEOUT_REASON } from '../../../functions/compute-stop-causes';
import { evolveJob, initialJobState, type JobState, type KnownJobState } from '../../../domain/job/job';
import { ConflictError, InvalidStateError, NotFoundError } from '../../../domain/errors';
import type { JobEvent } from '../../../events/job-events';
import { deciderSpec } from '../../support/decider-spec';
import { at, jobQueued, meta, running, starting, submitted } from './fixtures';

const given = deciderSpec(jobDecider);
const observe = (status: Extract<JobCommand, { type: 'ObserveCompute' }>['data']['status'], data: Partial<Extract<JobCommand, { type: 'ObserveCompute' }>['data']> = {}, second = 10): JobCommand => ({
  type: 'ObserveCompute',
  data: { status, ...data },
  ...meta(second),
});
const cancel = (second: number): JobCommand => ({ type: 'RequestCancel', data: {}, ...meta(second) });
const usage = (runSeconds: number) => ({ gpuSeconds: runSeconds * 2, trialGpuSeconds: runSeconds * 2, cost: { amount: 0, currency: 'CNY' as const } });

describe('Job lifecycle', () => {
  describe('When new', () => {
    it('queues the job as submitted', () =>
      given([]).when({ type: 'QueueJob', data: jobQueued.data, ...meta(1) }).then([jobQueued]));
    it('refuses anything else', () => given([]).when(cancel(1)).thenThrows(NotFoundError));
  });

  describe('When queued', () => {
    it('cannot be queued twice', () =>
      given([jobQueued]).when({ type: 'QueueJob', data: jobQueued.data, ...meta(1) }).thenThrows(ConflictError));
    it('records the compute job once', () => {
      given([jobQueued]).when({ type: 'RecordSubmission', data: { batchJobId: 'b-1' }, ...meta(2) }).then([submitted]);
      given([jobQueued, submitted]).when({ type: 'RecordSubmission', data: { batchJobId: 'b-2' }, ...meta(2) }).thenNothing();
    });
    it('is cancelled at once, at no cost', () =>
      given([jobQueued, submitted]).when(cancel(5)).then([{ type: 'JobCancelled', data: { finishedAt: at(5), runSeconds: 0, usage: usage(0) } }]));
    it('ignores Batch queue states', () => given([jobQueued]).when(observe('RUNNABLE')).thenNothing());
    it('starts', () => given([jobQueued, submitted]).when(observe('STARTING', {}, 3)).then([starting]));
    it('records the compute job id when Batch reports before the dispatcher', () =>
      given([jobQueued]).when(observe('STARTING', { batchJobId: 'b-1' }, 3)).then([
        { type: 'BatchJobSubmitted', data: { batchJobId: 'b-1', submittedAt: at(3) } },
        starting,
      ]));
    it('runs even when STARTING was lost, from the time Batch gives', () =>
      given([jobQueued, submitted]).when(observe('RUNNING', { startedAt: at(4) }, 6)).then([running]));
  });

  describe('When the service stops a running job', () => {
    const history = [jobQueued, submitted, starting, running];
    const stop = (reason: 'insufficient_balance' | 'max_runtime_exceeded' | 'infrastructure', second: number): JobCommand => ({ type: 'RequestStop', data: { reason }, ...meta(second) });
    const stopRequested: JobEvent = { type: 'JobStopRequested', data: { reason: 'insufficient_balance', requestedAt: at(74) } };
    it('records the stop and its reason', () => given(history).when(stop('insufficient_balance', 74)).then([stopRequested]));
    it('records it once: the first reason is the job\'s', () => given([...history, stopRequested]).when(stop('infrastructure', 80)).thenNothing());
    it('has nothing to stop once the job is final', () =>
      given([...history, { type: 'JobSucceeded', data: { finishedAt: at(9), runSeconds: 5, usage: usage(5), exitCode: 0 } }]).when(stop('infrastructure', 80)).thenNothing());
    it('fails the job with the recorded reason, whatever exit code the SIGTERM left and with no word from the compute side', () =>
      given([...history, stopRequested]).when(observe('FAILED', { exitCode: 143, stoppedAt: at(104) }, 105)).then([
        { type: 'JobFailed', data: { finishedAt: at(104), runSeconds: 100, usage: usage(100), reason: 'insufficient_balance', exitCode: 143, statusReason: null } },
      ]));
  });

  describe('When running', () => {
    const history = [jobQueued, submitted, starting, running];
    it('ignores a duplicate RUNNING', () => given(history).when(observe('RUNNING', { startedAt: at(5) })).thenNothing());
    it('succeeds, billed per started second', () =>
      given(history).when(observe('SUCCEEDED', { exitCode: 0, stoppedAt: '2026-11-25T12:00:14.200Z' }, 15)).then([
        { type: 'JobSucceeded', data: { finishedAt: '2026-11-25T12:00:14.200Z', runSeconds: 11, usage: usage(11), exitCode: 0 } },
      ]));
    it('fails with non_zero_exit on a non-zero exit', () =>
      given(history).when(observe('FAILED', { exitCode: 3, stoppedAt: at(9), statusReason: 'Essential container in task exited' })).then([
        {
          type: 'JobFailed',
          data: { finishedAt: at(9), runSeconds: 5, usage: usage(5), reason: 'non_zero_exit', exitCode: 3, statusReason: 'Essential container in task exited' },
        },
      ]));
    it('is stopped for insufficient balance when its held time runs out, billed no more than was held', () =>
      given(history).when(observe('FAILED', { exitCode: 137, stoppedAt: at(59), statusReason: TIMEOUT_REASON, cause: 'timeout' })).then([
        {
          type: 'JobFailed',
          data: { finishedAt: at(59), runSeconds: 55, usage: usage(55), reason: 'insufficient_balance', exitCode: 137, statusReason: TIMEOUT_REASON },
        },
      ]));
    it('never bills beyond the held seconds, however late the stop is reported', () =>
      given(history).when(observe('FAILED', { exitCode: 137, stoppedAt: '2026-11-25T12:10:00.000Z', statusReason: TIMEOUT_REASON, cause: 'timeout' })).then([
        {
          type: 'JobFailed',
          data: { finishedAt: '2026-11-25T12:10:00.000Z', runSeconds: 100, usage: usage(100), reason: 'insufficient_balance', exitCode: 137, statusReason: TIMEOUT_REASON },
        },
      ]));
    it('asks the compute side to stop when cancelled, once', () => {
      given(history).when(cancel(20)).then([{ type: 'JobCancelRequested', data: { requestedAt: at(20) } }]);
      given([...history, { type: 'JobCancelRequested', data: { requestedAt: at(20) } }]).when(cancel(21)).thenNothing();
    });
    it('is cancelled when the stop is confirmed, charged exactly the seconds it ran', () =>
      given([...history, { type: 'JobCancelRequested', data: { requestedAt: at(20) } }])
        .when(observe('FAILED', { exitCode: 143, stoppedAt: '2026-11-25T12:00:21.300Z', statusReason: 'Cancelled by the customer' }, 22))
        .then([{ type: 'JobCancelled', data: { finishedAt: '2026-11-25T12:00:21.300Z', runSeconds: 18, usage: usage(18) } }]));
  });

  describe('When Batch retries an attempt (a Spot reclaim)', () => {
    const history = [jobQueued, submitted, starting, running];
    const reclaimed = { startedAt: at(4), stoppedAt: '2026-11-25T12:00:10.400Z', statusReason: 'Host EC2 (instance i-1) terminated.', exitCode: 137 };
    const attemptFailed: JobEvent = {
      type: 'JobAttemptFailed',
      data: { attempt: 1, startedAt: at(4), stoppedAt: '2026-11-25T12:00:10.400Z', statusReason: 'Host EC2 (instance i-1) terminated.', exitCode: 137 },
    };
    it('records the ended attempt when the job is waiting again', () =>
      given(history).when(observe('RUNNABLE', { attempts: [reclaimed] }, 11)).then([attemptFailed]));
    it('records it once: a duplicate changes nothing', () =>
      given([...history, attemptFailed]).when(observe('RUNNABLE', { attempts: [reclaimed] }, 12)).thenNothing());
    it('records a lost RUNNABLE from the next RUNNING, then runs again', () =>
      given(history).when(observe('RUNNING', { startedAt: at(20), attempts: [reclaimed] }, 21)).then([attemptFailed, { type: 'JobRunning', data: { startedAt: at(20) } }]));
    it('ignores a late RUNNING of the first attempt once the second runs', () =>
      given([...history, attemptFailed, { type: 'JobRunning', data: { startedAt: at(20) } }]).when(observe('RUNNING', { startedAt: at(4), attempts: [] }, 22)).thenNothing());
    it('bills every attempt once, from the attempts Batch lists, rounded up once', () =>
      given([...history, attemptFailed, { type: 'JobRunning', data: { startedAt: at(20) } }])
        .when(observe('SUCCEEDED', { exitCode: 0, stoppedAt: '2026-11-25T12:00:25.700Z', attempts: [reclaimed, { startedAt: at(20), stoppedAt: '2026-11-25T12:00:25.700Z', exitCode: 0 }] }, 26))
        // 6.4 s + 5.7 s = 12.1 s → 13 s, not 7 + 6.
        .then([{ type: 'JobSucceeded', data: { finishedAt: '2026-11-25T12:00:25.700Z', runSeconds: 13, usage: usage(13), exitCode: 0 } }]));
    it('bills the recorded attempts when the final event lists none', () =>
      given([...history, attemptFailed, { type: 'JobRunning', data: { startedAt: at(20) } }])
        .when(observe('SUCCEEDED', { exitCode: 0, stoppedAt: '2026-11-25T12:00:25.700Z' }, 26))
        .then([{ type: 'JobSucceeded', data: { finishedAt: '2026-11-25T12:00:25.700Z', runSeconds: 13, usage: usage(13), exitCode: 0 } }]));
    it('never bills past the hold, however many attempts ran', () =>
      given(history)
        // 4 attempts of 30 s: 120 s ran, 100 s were held.
        .when(observe('FAILED', { statusReason: 'Host EC2 (instance i-4) terminated.', cause: 'infrastructure', stoppedAt: at(120), attempts: [0, 1, 2, 3].map((i) => ({ startedAt: at(i * 30), stoppedAt: at(i * 30 + 30) })) }, 121))
        .then([{ type: 'JobFailed', data: { finishedAt: at(120), runSeconds: 100, usage: usage(100), reason: 'infrastructure', exitCode: null, statusReason: 'Host EC2 (instance i-4) terminated.' } }]));
    it('fails with infrastructure when the local stack stopped it on shutdown, whatever its exit code', () =>
      given([...history, { type: 'JobRunning', data: { startedAt: at(20) } }])
        .when(observe('FAILED', { statusReason: 'Local stack shutting down', cause: 'infrastructure', exitCode: 143, stoppedAt: at(25) }, 26))
        .then([{ type: 'JobFailed', data: { finishedAt: at(25), runSeconds: 5, usage: usage(5), reason: 'infrastructure', exitCode: 143, statusReason: 'Local stack shutting down' } }]));
    it('is settled at zero when the compute side says no attempt ran', () =>
      given([jobQueued, submitted]).when(observe('FAILED', { statusReason: 'sx:infrastructure', cause: 'infrastructure', attempts: [] }, 30)).then([
        { type: 'JobFailed', data: { finishedAt: at(30), runSeconds: 0, usage: usage(0), reason: 'infrastructure', exitCode: null, statusReason: 'sx:infrastructure' } },
      ]));
  });

  describe('When final', () => {
    const history: JobEvent[] = [jobQueued, submitted, starting, running, { type: 'JobSucceeded', data: { finishedAt: at(9), runSeconds: 5, usage: usage(5), exitCode: 0 } }];
    it('ignores a late RUNNING', () => given(history).when(observe('RUNNING', { startedAt: at(4) })).thenNothing());
    it('ignores a duplicate final event', () => given(history).when(observe('FAILED', { exitCode: 1 })).thenNothing());
    it('cannot be cancelled', () => given(history).when(cancel(30)).thenThrows(InvalidStateError));
    it('evolve leaves it unchanged by a stray event', () => {
      const final = history.reduce(evolveJob, initialJobState());
      expect(evolveJob(final, running)).toBe(final);
    });
  });
});

describe('failureReason', () => {
  const queued = [jobQueued].reduce(evolveJob, initialJobState()) as KnownJobState;
  it.each([
    [137, 'timeout', 'insufficient_balance'],
    [1, null, 'non_zero_exit'],
    [null, 'container_start', 'non_zero_exit'],
    [null, 'infrastructure', 'infrastructure'],
    [0, null, 'infrastructure'],
  ] as const)('exit %s, ended by the compute side for %s, is %s', (exitCode, cause, expected) => {
    expect(failureReason(queued, exitCode, cause)).toBe(expected);
  });
  it('a timeout of a job that could pay for all its runtime is max_runtime_exceeded', () =>
    expect(failureReason({ ...queued, job: { ...queued.job, stopReason: 'max_runtime_exceeded' } }, 143, 'timeout')).toBe('max_runtime_exceeded'));
  it("the service's own stop wins over whatever the compute side says", () =>
    expect(failureReason({ ...queued, stopRequested: { reason: 'infrastructure', requestedAt: at(5) } }, 143, 'timeout')).toBe('infrastructure'));
});

