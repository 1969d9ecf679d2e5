/**
 * A decider (emmett's `Decider`, the Decider pattern): what an aggregate decides and how its events
 * fold. `decide` takes the command first and the state second everywhere; time and the service's
 * rules (`Policy`) ride on the command's `metadata`, so a decider reads no clock and no configuration.
 * A command that changes nothing returns `[]`; only a broken rule throws (a `DomainError`).
 */
export interface Decider<State, Command, Event> {
  initialState: () => State;
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
}

/** A decider whose instances each live in one stream, named from the instance's id (`job#<id>`). */
export interface StreamDecider<State, Command, Event> extends Decider<State, Command, Event> {
  streamId: (id: string) => string;
}

