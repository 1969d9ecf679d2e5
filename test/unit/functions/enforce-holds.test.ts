import { describe, expect, it } from 'vitest';
import { evolveJob, initialJobState, mustStop as mustStopAt, type KnownJobState } from '../../../domain/job/job';
import type { JobEvent } from '../../../events/job-events';
import { at, jobQueued, running, starting, submitted } from '../domain/fixtures';

// The fixture job is held 100 s with 30 s of grace: SIGTERM is due after 70 s of running in all.
const mustStop = (state: KnownJobState, now: Date) => mustStopAt(state, now.toISOString());
const stateOf = (events: JobEvent[]) => events.reduce(evolveJob, initialJobState()) as KnownJobState;
const attemptFailed: JobEvent = { type: 'JobAttemptFailed', data: { attempt: 1, startedAt: at(4), stoppedAt: at(44), statusReason: 'Host EC2 (instance i-1) terminated.', exitCode: 137 } };

describe('mustStop', () => {
  it('is due once one attempt has run held − grace seconds, not a millisecond before', () => {
    const state = stateOf([jobQueued, submitted, starting, running]); // running since second 4
    expect(mustStop(state, new Date(Date.parse(at(74)) - 1))).toBe(false);
    expect(mustStop(state, new Date(at(74)))).toBe(true);
  });

  it('counts every attempt: after 40 s lost to a reclaim, the second attempt gets 30 s', () => {
    const state = stateOf([jobQueued, submitted, starting, running, attemptFailed, { type: 'JobRunning', data: { startedAt: at(60) } }]);
    expect(mustStop(state, new Date(Date.parse(at(90)) - 1))).toBe(false);
    expect(mustStop(state, new Date(at(90)))).toBe(true);
  });

  it('never stops a job that is not running (waiting between attempts, or queued)', () => {
    expect(mustStop(stateOf([jobQueued, submitted, starting, running, attemptFailed]), new Date('2030-01-01T00:00:00Z'))).toBe(false);
    expect(mustStop(stateOf([jobQueued]), new Date('2030-01-01T00:00:00Z'))).toBe(false);
  });
});
