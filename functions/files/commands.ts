import { completionFailure, decideFiles, type FileCommand, type FileRegistryState } from '../../domain/files/files';
import { retryOnConflict } from '../adapters/with-retry';
import type { EventMetadata } from '../adapters/event-store';
import { fold, load } from '../aggregates/aggregate';
import { fileRegistries } from '../aggregates/files';
import type { Deps } from '../deps';

/**
 * Loads an account's files, decides `command` on them and appends the result; reloads and decides
 * again on a concurrent change.
 * @returns the files after the command.
 * @throws domain errors from the decider; InvalidUploadError after recording a completion's `FileFailed`.
 */
export async function runFileCommand(
  deps: Pick<Deps, 'store' | 'now'>,
  accountId: string,
  makeCommand: (now: string, state: FileRegistryState) => FileCommand | Promise<FileCommand>,
  metadata: EventMetadata = {},
): Promise<FileRegistryState> {
  return retryOnConflict(async () => {
    const registry = await load(deps.store, fileRegistries, accountId);
    const now = deps.now().toISOString();
    const command = await makeCommand(now, registry.state);
    const events = decideFiles(command, registry.state);
    if (events.length > 0) {
      await deps.store.append([{ streamId: fileRegistries.streamId(accountId), expectedVersion: registry.version, events }], { at: now, metadata });
    }
    const failure = events.length > 0 ? completionFailure(command) : null;
    if (failure) throw failure;
    return fold(fileRegistries, registry.state, events);
  });
}
