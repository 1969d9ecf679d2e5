/**
 * The local stand-in for AWS Batch ({@link LocalCompute}) and what its users need besides: the
 * wording of its events and what a restart recovered.
 */
export { LocalCompute, type LocalComputeOptions } from './local-compute';
export { hostLostReason, LOCAL_ACCOUNT, LOCAL_REGION, SHUTDOWN_REASON, TIMEOUT_REASON, type BatchJobDetail } from './batch-events';
export type { ComputeRecovery } from './recovery';
export type { DescribedJob } from '../../../functions/adapters/compute';
