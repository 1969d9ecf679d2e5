import { useState } from 'preact/hooks';
import type { Job, JobStatusName } from '../../../sdk/client';
import { ErrorLine, Status, useAction, useApp, useLoad } from '../app-context';
import type { MessageKey } from '../i18n';

const STATUSES: JobStatusName[] = ['queued', 'starting', 'running', 'succeeded', 'failed', 'cancelled'];

/** The account's jobs, newest first, refreshed every few seconds while the tab is visible. */
export function JobsPage() {
  const { t, f, client } = useApp();
  const [status, setStatus] = useState<JobStatusName | ''>('');
  const [older, setOlder] = useState<{ jobs: Job[]; cursor: string | null }>({ jobs: [], cursor: null });
  const { data, error } = useLoad(
    async () => {
      const page = await client.jobs.list({ status: status || undefined, limit: 20 });
      return page;
    },
    [status],
    3000,
  );
  const more = useAction();
  const first = data?.data ?? [];
  const seen = new Set(first.map((j) => j.id));
  const jobs = [...first, ...older.jobs.filter((j) => !seen.has(j.id))];
  const cursor = older.cursor ?? (data?.has_more ? data.next_cursor : null);

  return (
    <>
      <div class="page-head">
        <h1>{t('jobs.title')}</h1>
        <label class="inline">
          {t('jobs.filter')}
          <select
            name="status"
            value={status}
            onChange={(e) => {
              setOlder({ jobs: [], cursor: null });
              setStatus(e.currentTarget.value as JobStatusName | '');
            }}
          >
            <option value="">{t('jobs.filter.all')}</option>
            {STATUSES.map((s) => (
              <option value={s}>{t(`status.${s}` as MessageKey)}</option>
            ))}
          </select>
        </label>
        <a class="button primary" href="#/new">
          {t('nav.new')}
        </a>
      </div>
      <ErrorLine error={error ?? more.error} />
      {!data && !error && <p aria-busy="true">{t('loading')}</p>}
      {data && jobs.length === 0 && <p class="empty">{t('jobs.empty')}</p>}
      {jobs.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('col.name')}</th>
                <th scope="col">{t('col.status')}</th>
                <th scope="col">{t('col.gpus')}</th>
                <th scope="col">{t('col.gpuSeconds')}</th>
                <th scope="col">{t('col.cost')}</th>
                <th scope="col">{t('col.created')}</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr data-job={job.id}>
                  <td>
                    <a href={`#/jobs/${job.id}`}>{job.name ?? job.id}</a>
                    {job.name && <div class="sub">{job.id}</div>}
                  </td>
                  <td>
                    <Status status={job.status} />
                  </td>
                  <td class="num">{f.number(job.gpu_count)}</td>
                  <td class="num">{f.number(job.usage.gpu_seconds)}</td>
                  <td class="num">{f.money(job.usage.cost)}</td>
                  <td>{f.dateTime(job.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button
          type="button"
          disabled={more.busy}
          onClick={() =>
            void more.act(async () => {
              const page = await client.jobs.list({ status: status || undefined, limit: 20, cursor });
              setOlder((o) => ({ jobs: [...o.jobs, ...page.data], cursor: page.has_more ? page.next_cursor : '' }));
            })
          }
        >
          {t('jobs.more')}
        </button>
      )}
    </>
  );
}
