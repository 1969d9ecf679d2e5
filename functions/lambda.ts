import { buildAwsDeps } from './aws-deps';
import type { Deps } from './deps';

/**
 * Turns a handler factory into a Lambda `handler`: the dependencies are built from the environment
 * (`aws-deps.ts`) once per container, on the first invocation, so importing a handler (the local
 * stack, a test) builds no AWS clients, and clients are reused across invocations as Powertools
 * recommends.
 * @throws Error on invocation when the Lambda environment is incomplete (a deployment defect).
 */
export function lambda<A extends unknown[], R>(make: (deps: Deps) => (...args: A) => R): (...args: A) => R {
  let handler: ((...args: A) => R) | undefined;
  return (...args: A) => {
    handler ??= make(buildAwsDeps());
    return handler(...args);
  };
}
