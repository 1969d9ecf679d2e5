import type { Deps } from './deps';
import { runFileCommand } from './files/commands';
import { lambda } from './lambda';
import { logger } from './logger';

/** Where files' bytes are: `files/<account>/<file>` (functions/api/file-route.ts). */
const FILES_PREFIX = 'files/';
const FILE_KEY = /^files\/([^/]+)\/([^/]+)$/;

/**
 * Scheduled tick: ends abandoned uploads. The open multipart uploads object storage holds are the
 * index (no view to keep): each one started more than `Policy.uploadExpirySeconds` ago is expired
 * on its file (`ExpireUpload`: the file becomes `failed`, reason `expired`, and stops counting
 * against the quota), then aborted, which deletes its parts. An upload whose file is already gone,
 * failed or unknown is aborted too. The bucket's lifecycle rule for incomplete multipart uploads is
 * the backstop when this does not run. Safe to run twice: expiring and aborting again change nothing.
 */
export const make = (deps: Deps) => async (): Promise<{ expired: string[]; aborted: number }> => {
  const cutoff = deps.now().getTime() - deps.policy.uploadExpirySeconds * 1000;
  const expired: string[] = [];
  let aborted = 0;
  for (const upload of await deps.objects.listUploads(FILES_PREFIX)) {
    if (Date.parse(upload.initiated) > cutoff) continue;
    try {
      const match = FILE_KEY.exec(upload.key);
      if (match) {
        const [, accountId, fileId] = match as unknown as [string, string, string];
        const files = await runFileCommand(deps, accountId, (now) => ({ type: 'ExpireUpload', data: { fileId }, metadata: { now } }), { actor: 'system' });
        const file = files.files[fileId];
        // Its own clock says it has time left (the upload started just before the file was recorded).
        if (file?.status === 'uploading' && file.uploadId === upload.uploadId) continue;
        if (file?.status === 'failed' && file.failureReason === 'expired') expired.push(fileId);
      }
      await deps.objects.abortUpload(upload.key, upload.uploadId);
      aborted++;
    } catch (error) {
      logger.error('could not end an abandoned upload', { key: upload.key, error });
    }
  }
  return { expired, aborted };
};

export const handler = lambda(make);
