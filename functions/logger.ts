import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON log lines of every function and of the local stack, through Powertools for AWS
 * Lambda's Logger (level, message, timestamp, service, and the attributes given). One per container,
 * created at module level as Powertools recommends. The level comes from `POWERTOOLS_LOG_LEVEL` or
 * the function's log level in Lambda; INFO by default. An `error` attribute that is an Error is
 * written with its name, message and stack. Metrics are in `metrics.ts`, a module of their own so
 * that only the functions that publish one carry their code.
 */
export const logger = new Logger({ serviceName: 'suanxiang-cloud' });
