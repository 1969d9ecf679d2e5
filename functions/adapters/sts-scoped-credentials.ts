import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { ScopedCredentials } from './object-store';

/** STS's bounds on a session of a role assumed by a role (role chaining): 15 min to 1 h. */
const MIN_SESSION_SECONDS = 900;
const MAX_SESSION_SECONDS = 3600;

/**
 * {@link ScopedCredentials} from STS: a session of the URL-signing role (`roleArn`, defined beside the
 * bucket) with a session policy allowing the one action on the one key or prefix, so the session can
 * do no more than the URL it signs, whatever the role may. One `AssumeRole` per signing call (all the
 * parts of one upload, all the files of one job's listing).
 * @throws when STS refuses (the request fails with a 5xx and may be retried).
 */
export function stsScopedCredentials(sts: STSClient, config: { roleArn: string; bucket: string }): ScopedCredentials {
  // The role's partition (aws, aws-cn) is the bucket's.
  const partition = config.roleArn.split(':')[1] ?? 'aws';
  return async ({ action, scope }, seconds) => {
    const resource = `arn:${partition}:s3:::${config.bucket}/${scope.endsWith('/') ? `${scope}*` : scope}`;
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: config.roleArn,
        RoleSessionName: 'sx-signed-urls',
        DurationSeconds: Math.min(MAX_SESSION_SECONDS, Math.max(MIN_SESSION_SECONDS, Math.ceil(seconds))),
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] }),
      }),
    );
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey) throw new Error('STS gave no credentials for signing');
    return { accessKeyId: Credentials.AccessKeyId, secretAccessKey: Credentials.SecretAccessKey, sessionToken: Credentials.SessionToken, expiration: Credentials.Expiration };
  };
}
