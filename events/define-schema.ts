/**
 * Declares a module-level schema so that a bundle can leave it out where nothing uses it.
 *
 * Every zod schema is built when its module loads. A bundler must assume that a call has side
 * effects, so a Lambda bundle used to build every schema of every module it imported, most of which
 * that function never parses; building them was most of the cold start that is our own code
 * (BENCHMARKS.md, "Lambda bundles"). Written as
 *
 *     export const X = /* @__PURE__ *\/ defineSchema(() => z.object({ ... }));
 *
 * the call is marked pure and its only argument is a function literal, so esbuild drops the whole
 * declaration from a bundle in which no code reaches `X`. (The mark must sit at each call: esbuild
 * does not carry `@__NO_SIDE_EFFECTS__` on a function across modules, evanw/esbuild#4369.) Where
 * `X` is used it is the schema itself, built once at load as before: nothing is deferred.
 */
export function defineSchema<T>(build: () => T): T {
  return build();
}
