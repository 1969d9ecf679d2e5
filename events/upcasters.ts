/**
 * Event evolution. Every stored event item carries `schemaVersion` (an attribute of the item next to
 * `type`, not inside `data`, so reading it never needs the payload's schema). A shipped event is never
 * edited in place: when its shape changes, its current version goes up by one and an upcaster from the
 * previous version is added here. Events are upcast on read (by the event store adapters and the
 * stream consumer), so deciders and projections only ever see the current shape, and stored items
 * are never rewritten: the table stays the immutable record of what was written, in the shape written.
 *
 * Imports nothing but plain data types: `events/` depends on nothing in `functions/` or `domain/`.
 */

/** An event's payload, as stored. */
export type EventData = Record<string, unknown>;

/** Turns the payload of version `from` into that of version `from + 1`. Pure; must not throw on a valid old payload. */
export type Upcaster = (data: EventData) => EventData;

/** One event type's history: its current version and one upcaster per older version (keyed by the version it upgrades from). */
export interface EventHistory {
  current: number;
  upcasters: Readonly<Record<number, Upcaster>>;
}

/**
 * The registry: event type → history. A type not listed is at version 1 and has never changed.
 *
 * `HoldSettled` v2: `gpuType`, `periodStart` and `periodEnd` are always present. Settlements
 * from before credits (v1) may lack them; what they meant is what every reader used to assume: an A100
 * hold, billed up to the settlement, and a period that starts where it ends when none was recorded.
 * The zod schema keeps them optional so that the type still describes every stored item.
 */
export const eventHistories: Readonly<Record<string, EventHistory>> = {
  HoldSettled: {
    current: 2,
    upcasters: {
      1: (data) => {
        const periodEnd = (data.periodEnd as string | undefined) ?? (data.settledAt as string);
        return { ...data, gpuType: data.gpuType ?? 'a100', periodEnd, periodStart: data.periodStart ?? periodEnd };
      },
    },
  },
};

/** The version new events of `type` are written with. */
export function currentSchemaVersion(type: string, histories: Readonly<Record<string, EventHistory>> = eventHistories): number {
  return histories[type]?.current ?? 1;
}

/**
 * Brings a stored event's payload up to the current version of its type by applying each upcaster
 * in turn. An event already current, or of a type with no history, is returned as it is. A version
 * newer than the code knows (an older deployment reading a newer writer's event) is also returned
 * as it is: its schema decides whether it can be read, and a defect surfaces there, not here.
 * @throws Error if an upcaster between the stored and the current version is missing (a registry defect).
 */
export function upcast<E extends { type: string; schemaVersion: number; data: EventData }>(
  event: E,
  histories: Readonly<Record<string, EventHistory>> = eventHistories,
): E {
  const history = histories[event.type];
  if (!history || event.schemaVersion >= history.current) return event;
  let data = event.data;
  for (let version = event.schemaVersion; version < history.current; version++) {
    const step = history.upcasters[version];
    if (!step) throw new Error(`No upcaster for ${event.type} from schema version ${version} to ${version + 1}`);
    data = step(data);
  }
  return { ...event, schemaVersion: history.current, data };
}
