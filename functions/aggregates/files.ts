import { FileEvent } from '../../events/file-events';
import { fileRegistryDecider } from '../../domain/files/files';

/** An account's files (`files#<account id>`), keyed by the account id. */
export const fileRegistries = { ...fileRegistryDecider, schema: FileEvent };
