import type { CreatedFile, FileBody, ResumedUpload } from '../events/api/files';

/** What `files.upload` reports as parts finish. */
export interface UploadProgress {
  fileId: string;
  /** Bytes in object storage so far (parts a resumed upload found count at once). */
  uploadedBytes: number;
  totalBytes: number;
}

export interface UploadOptions {
  /** @default the path's base name, or the Blob's `name` when it is a File */
  filename?: string;
  purpose?: 'dataset' | 'model' | 'other';
  /** The bytes' SHA-256 (hex): the service refuses the upload if they differ. */
  sha256?: string;
  /** Continue this file's upload instead of starting a new one (its parts already uploaded are kept). */
  resumeFileId?: string;
  /** Parts sent at once. @default 4 */
  concurrency?: number;
  /** Called once the file exists (before any part is sent), e.g. to remember its id for a resume. */
  onCreated?: (file: FileBody) => void;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

/** The API calls an upload makes (the client's own methods). */
export interface UploadApi {
  create(body: { filename: string; size: number; purpose?: 'dataset' | 'model' | 'other'; sha256?: string }): Promise<CreatedFile>;
  get(id: string): Promise<FileBody>;
  resumeUpload(id: string): Promise<ResumedUpload>;
  complete(id: string, parts: Array<{ part_number: number; etag: string }>): Promise<FileBody>;
  fetch: typeof fetch;
}

/** A part's PUT failed for good (after retries). Running the upload again resumes it. */
export class SxUploadError extends Error {
  override readonly name = 'SxUploadError';
  constructor(
    message: string,
    readonly fileId: string,
  ) {
    super(message);
  }
}

const PART_ATTEMPTS = 4;

/**
 * Uploads `source` (a Blob, or in Node a file path: read with `fs.openAsBlob`, so parts stream from
 * disk and memory stays small whatever the size) by signed part URLs, `concurrency` parts at once,
 * then completes it. With `resumeFileId` it asks which parts are already there and sends the rest.
 * @throws SxUploadError when a part cannot be sent; SxApiError from the API (422 `invalid_upload` …).
 */
export async function uploadFile(api: UploadApi, source: string | Blob, options: UploadOptions = {}): Promise<FileBody> {
  const blob = typeof source === 'string' ? await openBlob(source) : source;
  const filename = options.filename ?? (typeof source === 'string' ? baseName(source) : (source as Blob & { name?: string }).name) ?? 'upload';
  let fileId: string;
  let partSize: number;
  let todo: Array<{ part_number: number; url: string }>;
  const done: Array<{ part_number: number; etag: string }> = [];
  let uploadedBytes = 0;
  if (options.resumeFileId) {
    const file = await api.get(options.resumeFileId);
    if (file.size !== blob.size) throw new SxUploadError(`File ${file.id} has ${file.size} bytes; this source has ${blob.size}`, file.id);
    fileId = file.id;
    if (file.status === 'ready') return file;
    const resumed = await api.resumeUpload(file.id);
    options.onCreated?.(file);
    partSize = resumed.part_size;
    todo = resumed.parts;
    for (const p of resumed.uploaded) {
      done.push({ part_number: p.part_number, etag: p.etag });
      uploadedBytes += p.size;
    }
  } else {
    const created = await api.create({ filename, size: blob.size, purpose: options.purpose, sha256: options.sha256 });
    options.onCreated?.(created);
    fileId = created.id;
    partSize = created.upload.part_size;
    todo = created.upload.parts;
  }
  const report = () => options.onProgress?.({ fileId, uploadedBytes, totalBytes: blob.size });
  report();
  const queue = [...todo];
  const worker = async () => {
    for (let part = queue.shift(); part; part = queue.shift()) {
      const body = blob.slice((part.part_number - 1) * partSize, part.part_number * partSize);
      const etag = await putPart(api.fetch, part.url, body, fileId, part.part_number, options.signal);
      done.push({ part_number: part.part_number, etag });
      uploadedBytes += body.size;
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, queue.length)) }, worker));
  return api.complete(fileId, done.sort((a, b) => a.part_number - b.part_number));
}

async function putPart(fetchFn: typeof fetch, url: string, body: Blob, fileId: string, n: number, signal?: AbortSignal): Promise<string> {
  let last = '';
  for (let attempt = 1; attempt <= PART_ATTEMPTS; attempt++) {
    try {
      const res = await fetchFn(url, { method: 'PUT', body, signal });
      await res.body?.cancel();
      const etag = res.headers.get('etag');
      if (res.ok && etag) return etag;
      last = `HTTP ${res.status}`;
      // A refused signature (an expired URL) will not pass on a retry: resuming signs afresh.
      if (res.status === 403 || res.status === 400) break;
    } catch (error) {
      if (signal?.aborted) throw error;
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
  }
  throw new SxUploadError(`Part ${n} of ${fileId} could not be sent (${last}); run the upload again to resume it`, fileId);
}

async function openBlob(path: string): Promise<Blob> {
  // Only in Node, only for a path. The specifier is a variable so that bundlers leave it alone: the
  // SDK bundled for a browser holds no Node built-in (there a path is refused below; pass a Blob).
  const specifier = 'node:fs';
  const fs = (await import(/* @vite-ignore */ specifier).catch(() => null)) as { openAsBlob?(path: string): Promise<Blob> } | null;
  if (!fs?.openAsBlob) throw new TypeError('A path can be uploaded in Node 20+ only; pass a Blob or File here');
  return fs.openAsBlob(path);
}

const baseName = (path: string) => path.split(/[\\/]/).filter(Boolean).pop() ?? path;
