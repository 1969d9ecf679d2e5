import { JobEvent } from '../../events/job-events';
import { evolveJob, initialJobState, type JobState } from '../../domain/job/job';
import type { Aggregate } from './aggregate';

export const jobs: Aggregate<JobState, JobEvent> = {
  streamId: (id) => `job#${id}`,
  schema: JobEvent,
  initial: initialJobState,
  evolve: evolveJob,
};
