import type { JobFileList } from '../../events/api/jobs';
import type { Deps } from '../deps';
import { SIGNED_URL_SECONDS } from './file-route';

/** Every object under `prefix`, each with a signed download URL valid {@link SIGNED_URL_SECONDS} at most. */
export async function signedListing(deps: Deps, prefix: string): Promise<JobFileList> {
  const expiresAt = new Date(deps.now().getTime() + SIGNED_URL_SECONDS * 1000).toISOString();
  const objects = await deps.objects.list(prefix);
  // Signed for the job's prefix only: no URL of the listing reaches anything outside it.
  const urls = await deps.objects.signGets(prefix, objects.map((o) => prefix + o.path), SIGNED_URL_SECONDS);
  const data = objects.map((o, i) => ({ path: o.path, size: o.size, url: urls[i]!, expires_at: expiresAt }));
  return { object: 'list', data };
}
