import { FileEvent } from '../../events/file-events';
import { evolveFileRegistry, initialFileRegistry, type FileRegistryState } from '../../domain/files/files';
import type { Aggregate } from './aggregate';

/** An account's files (`files#<account id>`), keyed by the account id. */
export const fileRegistries: Aggregate<FileRegistryState, FileEvent> = {
  streamId: (accountId) => `files#${accountId}`,
  schema: FileEvent,
  initial: initialFileRegistry,
  evolve: evolveFileRegistry,
};
