import type { Deps } from './deps';

type Builder = () => Deps;
let build: Builder | undefined;

/**
 * Registers how Lambda builds its dependencies from the environment (`aws-deps.ts` does this when
 * bundled as a Lambda entry point). Kept out of each handler module so importing a handler for the
 * local stack or a test builds no AWS clients.
 */
export const setDepsBuilder = (builder: Builder) => {
  build = builder;
};

/**
 * Turns a handler factory into a Lambda `handler`: the dependencies are built once per container,
 * on the first invocation (clients are reused across invocations, as Powertools recommends).
 * @throws Error on invocation if no dependency builder was registered.
 */
export function lambda<A extends unknown[], R>(make: (deps: Deps) => (...args: A) => R): (...args: A) => R {
  let handler: ((...args: A) => R) | undefined;
  return (...args: A) => {
    if (!handler) {
      if (!build) throw new Error('No dependency builder registered: import functions/aws-deps first');
      handler = make(build());
    }
    return handler(...args);
  };
}
