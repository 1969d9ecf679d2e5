import { describe, expect, it } from 'vitest';
import { stopCauseOf, TIMEOUT_REASON } from '../../../functions/compute-stop-causes';

describe("the compute side's words on why a job ended, as the job decider gets them", () => {
  it.each([
    [TIMEOUT_REASON, 'timeout'],
    ['CannotStartContainerError: spawn nope ENOENT', 'container_start'],
    ['CannotPullContainerError: pull access denied', 'container_start'],
    ['Host EC2 (instance i-0) terminated.', 'infrastructure'],
    ['Local stack shutting down', 'infrastructure'],
    ['sx:infrastructure', 'infrastructure'],
    // Stopped at the held time before stops were events of the job: the held time's reason.
    ['sx:insufficient_balance', 'timeout'],
    ['sx:max_runtime_exceeded', 'timeout'],
    ['Cancelled by the customer', null],
    ['Essential container in task exited', null],
    ['MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT', null],
    [null, null],
  ] as const)('%j → %s', (statusReason, cause) => {
    expect(stopCauseOf(statusReason)).toBe(cause);
  });
});
