import { describe, expect, it } from 'vitest';
import { buildAwsDeps } from '../../../functions/aws-deps';
import { policyFrom, sweepsFrom } from '../../../functions/build-deps';
import { readLambdaEnv, readLocalEnv, ServiceSettings } from '../../../functions/env';

const AWS_WIRING = {
  SX_EVENTS_TABLE: 'sx-events',
  SX_VIEWS_TABLE: 'sx-views',
  SX_JOB_QUEUE_ON_DEMAND: 'od',
  SX_JOB_DEFINITION_SINGLE_NODE: 'single',
  SX_JOB_DEFINITION_MULTI_NODE: 'multi',
  SX_OUTPUT_BUCKET: 'sx-out',
  SX_ADMIN_KEY_SECRET: 'sx/admin-key',
  AWS_REGION: 'us-east-1',
};

/** A value other than the default for every service setting: a new setting does not compile until it has one here. */
const SAMPLES: Record<keyof ServiceSettings, string> = {
  SX_STOP_GRACE_SECONDS: '45',
  SX_PRICE_A100: '1500',
  SX_CNY_PER_USD: '7.2',
  SX_RUNNABLE_TIMEOUT_SECONDS: '60',
  SX_LOST_JOB_SECONDS: '61',
  SX_CAPACITY_IDLE_SECONDS: '62',
};

/** What the settings decide, as a Lambda function builds it and as the local stack builds it (`npm start`'s environment). */
const rules = {
  aws: (env: Record<string, string>) => {
    const deps = buildAwsDeps(readLambdaEnv({ ...AWS_WIRING, ...env }));
    return { policy: deps.policy, sweeps: deps.sweeps };
  },
  local: (env: Record<string, string>) => {
    const settings = readLocalEnv(env);
    return { policy: policyFrom(settings), sweeps: sweepsFrom(settings) };
  },
};

describe('one configuration for AWS and the local stack', () => {
  it('gives the same rules in both with every setting at its default', () => {
    expect(rules.aws({})).toEqual(rules.local({}));
  });

  it.each(Object.entries(SAMPLES))('%s=%s changes the rules, the same way in AWS and locally', (name, value) => {
    const aws = rules.aws({ [name]: value });
    expect(aws).toEqual(rules.local({ [name]: value }));
    // A setting that is read but changes nothing would be a setting that does not work.
    expect(aws).not.toEqual(rules.aws({}));
  });

  it('lists each setting once, in the schema both environments extend', () => {
    const service = Object.keys(ServiceSettings.shape);
    expect(Object.keys(SAMPLES).sort()).toEqual([...service].sort());
    expect(readLambdaEnv(AWS_WIRING)).toMatchObject(ServiceSettings.parse({}));
    expect(readLocalEnv({})).toMatchObject(ServiceSettings.parse({}));
  });
});
