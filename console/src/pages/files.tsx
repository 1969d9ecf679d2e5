import { useRef, useState } from 'preact/hooks';
import type { SxFile } from '../../../sdk/index';
import { ErrorLine, Section, Status, useAction, useApp, useLoad } from '../app-context';

type Purpose = 'dataset' | 'model' | 'other';

/**
 * Files: upload (straight to object storage by the SDK's signed part URLs, with progress), resume an
 * interrupted upload by picking the same file again, list, delete, and the storage used of the quota.
 */
export function FilesPage() {
  const { t, f, client, locale } = useApp();
  const { data, error, reload, setData } = useLoad(async () => {
    const [account, files] = await Promise.all([client.account(), client.files.list({ limit: 100 })]);
    return { storage: account.storage, files: files.data };
  }, []);
  const [purpose, setPurpose] = useState<Purpose>('dataset');
  const [progress, setProgress] = useState<{ name: string; done: number; total: number } | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [resumeId, setResumeId] = useState<string | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const upload = useAction();
  const remove = useAction();

  const send = (file: File, resumeFileId?: string) => {
    setNote(null);
    setProgress({ name: file.name, done: 0, total: file.size });
    void upload
      .act(async () => {
        const ready = await client.files.upload(file, {
          purpose,
          resumeFileId,
          onProgress: (p) => setProgress({ name: file.name, done: p.uploadedBytes, total: p.totalBytes }),
        });
        setNote(t('files.uploaded', { name: ready.filename }));
        if (picker.current) picker.current.value = '';
      })
      .finally(() => {
        setProgress(null);
        setResumeId(null);
        void reload();
      });
  };

  const percent = (p: { done: number; total: number }) =>
    new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(p.total ? p.done / p.total : 0);

  return (
    <>
      <h1>{t('files.title')}</h1>
      <ErrorLine error={error ?? remove.error} />
      <div class="grid">
        <Section title={t('files.storage')} id="storage-title">
          {data && (
            <>
              <p data-testid="storage">{t('files.storage.value', { used: f.bytes(data.storage.used_bytes), quota: f.bytes(data.storage.quota_bytes) })}</p>
              <meter min={0} max={data.storage.quota_bytes} value={data.storage.used_bytes} aria-label={t('files.storage')} />
            </>
          )}
        </Section>
        <Section title={t('files.upload')} id="upload-title">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const file = picker.current?.files?.[0];
              if (file) send(file, resumeId ?? undefined);
            }}
          >
            {resumeId && (
              <p class="hint" role="status">
                {t('files.resume.pick')}
              </p>
            )}
            <label>
              {t('files.file')}
              <input ref={picker} type="file" name="file" required />
            </label>
            <label>
              {t('files.purpose')}
              <select name="purpose" value={purpose} onChange={(e) => setPurpose(e.currentTarget.value as Purpose)}>
                {(['dataset', 'model', 'other'] as const).map((p) => (
                  <option value={p}>{t(`files.purpose.${p}`)}</option>
                ))}
              </select>
            </label>
            <button type="submit" class="primary" disabled={upload.busy}>
              {resumeId ? t('files.resume') : t('files.upload.submit')}
            </button>
          </form>
          {progress && (
            <div role="status">
              <p>{t('files.progress', { name: progress.name, percent: percent(progress) })}</p>
              <progress max={progress.total} value={progress.done} aria-label={progress.name} />
            </div>
          )}
          <ErrorLine error={upload.error} />
          {note && (
            <p class="ok" role="status">
              {note}
            </p>
          )}
        </Section>
      </div>
      {data && data.files.length === 0 && <p class="empty">{t('files.empty')}</p>}
      {data && data.files.length > 0 && (
        <div class="table-wrap">
          <table data-testid="files">
            <thead>
              <tr>
                <th scope="col">{t('col.name')}</th>
                <th scope="col">{t('files.purpose')}</th>
                <th scope="col">{t('files.size')}</th>
                <th scope="col">{t('col.status')}</th>
                <th scope="col">{t('col.created')}</th>
                <th scope="col">{t('col.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {data.files.map((file: SxFile) => (
                <tr data-file={file.id}>
                  <td>
                    {file.filename}
                    <div class="sub mono">{file.id}</div>
                  </td>
                  <td>{t(`files.purpose.${file.purpose}`)}</td>
                  <td class="num">{f.bytes(file.size)}</td>
                  <td>
                    <Status status={file.status} />
                  </td>
                  <td>{f.dateTime(file.created_at)}</td>
                  <td class="actions">
                    {file.status === 'uploading' && (
                      <button
                        type="button"
                        onClick={() => {
                          setResumeId(file.id);
                          picker.current?.focus();
                        }}
                      >
                        {t('files.resume')}
                      </button>
                    )}
                    <button
                      type="button"
                      class="danger"
                      disabled={remove.busy}
                      onClick={() => {
                        if (!confirm(t('files.delete.confirm'))) return;
                        void remove.act(async () => {
                          await client.files.delete(file.id);
                          // Gone at once here; the storage figure follows from the account.
                          setData((d) => d && { ...d, files: d.files.filter((x) => x.id !== file.id) });
                          const account = await client.account();
                          setData((d) => d && { ...d, storage: account.storage });
                        });
                      }}
                    >
                      {t('files.delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
