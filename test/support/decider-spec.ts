import { expect } from 'vitest';

/**
 * Given/When/Then for deciders, after emmett's DeciderSpecification:
 * `given([...events]).when(command).then([...events])` or `.thenThrows(ErrorClass)`.
 */
export function deciderSpec<S, E, C>(decider: {
  decide: (command: C, state: S) => E[];
  evolve: (state: S, event: E) => S;
  initialState: () => S;
}) {
  return (givenEvents: E[]) => ({
    when: (command: C) => {
      const run = () => decider.decide(command, givenEvents.reduce(decider.evolve, decider.initialState()));
      return {
        then: (expected: E[]) => expect(run()).toEqual(expected),
        thenNothing: () => expect(run()).toEqual([]),
        thenThrows: (error: new (...args: never[]) => Error) => expect(run).toThrow(error),
      };
    },
  });
}
