import { JobEvent } from '../../events/job-events';
import { jobDecider } from '../../domain/job/decide';

export const jobs = { ...jobDecider, schema: JobEvent };
