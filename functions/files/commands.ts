import { completionFailure, type FileCommand, type FileRegistryState } from '../../domain/files/files';
import type { EventMetadata } from '../adapters/event-store';
import { fileRegistries } from '../aggregates/files';
import { handleCommand } from '../command-handler';
import type { Deps } from '../deps';

/**
 * Decides `command` on an account's files through the command handler.
 * @returns the files after the command.
 * @throws domain errors from the decider; InvalidUploadError after recording a completion's `FileFailed`.
 */
export async function runFileCommand(
  deps: Pick<Deps, 'store' | 'now'>,
  accountId: string,
  makeCommand: (now: string, state: FileRegistryState) => FileCommand | Promise<FileCommand>,
  metadata: EventMetadata = {},
): Promise<FileRegistryState> {
  const { state, events, command } = await handleCommand(deps, fileRegistries, accountId, makeCommand, { metadata });
  const failure = events.length > 0 ? completionFailure(command) : null;
  if (failure) throw failure;
  return state;
}
