import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { isFinal } from '../../../sdk/client';
import { ErrorLine, Section, Status, useAction, useApp, useLoad } from '../app-context';
import type { MessageKey } from '../i18n';
import { Chart } from '../chart';
import { metricSeries } from '../logic';

/**
 * One job: its status, the timeline of its events, its log as it grows (text only, never HTML),
 * usage and cost so far, the held time left, and cancel. Polls every 2 s until the job is final.
 */
export function JobPage({ id }: { id: string }) {
  const { t, f, client } = useApp();
  const [final, setFinal] = useState(false);
  const { data, error, reload } = useLoad(
    async () => {
      const [job, events, log] = await Promise.all([client.jobs.get(id), client.jobs.events(id), client.jobs.logs(id)]);
      return { job, events, log };
    },
    [id],
    final ? undefined : 2000,
  );
  const cancel = useAction();
  const [follow, setFollow] = useState(true);
  const logRef = useRef<HTMLPreElement>(null);

  useEffect(() => {
    if (data && isFinal(data.job)) setFinal(true);
  }, [data]);
  useEffect(() => {
    const pre = logRef.current;
    if (follow && pre) pre.scrollTop = pre.scrollHeight;
  }, [data?.log, follow]);

  if (!data) {
    return (
      <>
        <a href="#/jobs">← {t('detail.back')}</a>
        <ErrorLine error={error} />
        {!error && <p aria-busy="true">{t('loading')}</p>}
      </>
    );
  }
  const { job, events, log } = data;
  const now = Date.now();
  const heldLeft =
    job.status === 'queued' || job.status === 'starting'
      ? job.held_seconds
      : job.status === 'running' && job.started_at
        ? Math.max(0, job.held_seconds - Math.floor((now - Date.parse(job.started_at)) / 1000))
        : null;

  return (
    <>
      <a href="#/jobs">← {t('detail.back')}</a>
      <div class="page-head">
        <h1>
          {t('detail.title')} <span class="mono">{job.name ?? job.id}</span>
        </h1>
        <Status status={job.status} />
        {!isFinal(job) && (
          <button
            type="button"
            class="danger"
            disabled={cancel.busy || job.cancel_requested_at !== null}
            onClick={() => {
              if (confirm(t('confirm.cancel'))) void cancel.act(() => client.jobs.cancel(job.id)).then(() => reload());
            }}
          >
            {job.cancel_requested_at ? t('detail.cancelRequested') : t('detail.cancel')}
          </button>
        )}
      </div>
      <ErrorLine error={error ?? cancel.error} />
      <div class="grid">
        <Section title={t('detail.usage')} id="usage-title">
          <dl class="facts">
            <dt>{t('col.gpuSeconds')}</dt>
            <dd data-testid="gpu-seconds">{t('detail.gpuSeconds', { n: job.usage.gpu_seconds })}</dd>
            {job.usage.trial_gpu_seconds > 0 && (
              <>
                <dt>{t('billing.source.trial')}</dt>
                <dd>{t('detail.trialPart', { n: job.usage.trial_gpu_seconds })}</dd>
              </>
            )}
            <dt>{t('col.cost')}</dt>
            <dd>{f.money(job.usage.cost)}</dd>
            {heldLeft !== null && (
              <>
                <dt>{t('detail.heldLeft')}</dt>
                <dd>{f.duration(heldLeft)}</dd>
              </>
            )}
            <dt>{t('col.gpus')}</dt>
            <dd>
              {f.number(job.gpu_count)} × {job.gpu_type.toUpperCase()}
            </dd>
            <dt>{t('detail.image')}</dt>
            <dd class="mono">{job.image}</dd>
            <dt>{t('detail.command')}</dt>
            <dd class="mono">{job.command.join(' ')}</dd>
            {job.failure_reason && (
              <>
                <dt>{t('detail.failure')}</dt>
                <dd>{job.failure_reason}</dd>
              </>
            )}
            {job.exit_code !== null && (
              <>
                <dt>{t('detail.exit')}</dt>
                <dd>{f.number(job.exit_code)}</dd>
              </>
            )}
            {job.inputs && job.inputs.length > 0 && (
              <>
                <dt>{t('detail.inputs')}</dt>
                <dd class="mono">{job.inputs.map((i) => `${i.name} ← ${'file_id' in i ? i.file_id : i.job_id}`).join(', ')}</dd>
              </>
            )}
            {job.output_uri && (
              <>
                <dt>{t('detail.output')}</dt>
                <dd class="mono">{job.output_uri}</dd>
              </>
            )}
          </dl>
        </Section>
        <Section title={t('detail.timeline')} id="timeline-title">
          <ol class="timeline">
            {events.map((event) => {
              const status = event.type.replace(/^job\./, '');
              const key = `status.${status}` as MessageKey;
              return (
                <li>
                  <time dateTime={event.created_at}>{f.dateTime(event.created_at)}</time>{' '}
                  <span class={`badge badge-${status}`}>{['queued', 'starting', 'running', 'succeeded', 'failed', 'cancelled'].includes(status) ? t(key) : event.type}</span>
                </li>
              );
            })}
          </ol>
        </Section>
      </div>
      <JobMetrics id={job.id} final={isFinal(job)} />
      <div class="grid">
        <JobFiles title={t('detail.outputs')} id="outputs-title" load={() => client.jobs.outputs(job.id)} final={isFinal(job)} testId="outputs" />
        <JobFiles title={t('detail.checkpoints')} id="checkpoints-title" load={() => client.jobs.checkpoints(job.id)} final={isFinal(job)} testId="checkpoints" />
      </div>
      <section class="card" aria-labelledby="log-title">
        <div class="page-head">
          <h2 id="log-title">{t('detail.log')}</h2>
          <label class="inline">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> {t('detail.follow')}
          </label>
        </div>
        {/* Text content only: a log line that looks like markup stays text. */}
        <pre class="log" ref={logRef} tabIndex={0} aria-label={t('detail.log')} data-testid="log">
          {log || t('detail.log.empty')}
        </pre>
      </section>
    </>
  );
}

/** A job's outputs or checkpoints, each with its signed download link (valid an hour: reloaded every few minutes). */
function JobFiles(props: { title: string; id: string; testId: string; final: boolean; load: () => Promise<Array<{ path: string; size: number; url: string }>> }) {
  const { t, f } = useApp();
  const { data, error } = useLoad(props.load, [props.final], props.final ? 300_000 : 10_000);
  return (
    <Section title={props.title} id={props.id}>
      <ErrorLine error={error} />
      {data && data.length === 0 && <p class="empty">{t('detail.files.empty')}</p>}
      {data && data.length > 0 && (
        <ul class="files" data-testid={props.testId}>
          {data.map((file) => (
            <li>
              <a href={file.url} download={file.path.split('/').pop()} rel="noopener noreferrer">
                {file.path}
              </a>{' '}
              <span class="sub">{f.bytes(file.size)}</span>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

/**
 * The job's metrics, one chart each (by step when every point has one, else by time), refreshed
 * while it runs. After the job ends its last points follow the log by a few seconds, so reading
 * stops once two reads after the end agree.
 */
function JobMetrics({ id, final }: { id: string; final: boolean }) {
  const { t, f, client } = useApp();
  const [settled, setSettled] = useState(false);
  const { data, error } = useLoad(() => client.jobs.metrics(id, { maxPoints: 500 }), [id], settled ? undefined : 3000);
  const previous = useRef<string | null>(null);
  useEffect(() => {
    if (!data) return;
    const signature = JSON.stringify(data.map((m) => [m.name, m.points.length, m.last]));
    if (final && previous.current === signature) setSettled(true);
    previous.current = final ? signature : null;
  }, [final, data]);
  const charts = useMemo(() => (data ?? []).map(metricSeries), [data]);
  return (
    <Section title={t('detail.metrics')} id="metrics-title">
      <ErrorLine error={error} />
      {data && data.length === 0 && <p class="empty">{t('detail.metrics.empty')}</p>}
      <div class="grid" data-testid="metrics">
        {charts.map((c) => {
          const summary = t(c.lastStep === null ? 'detail.metric.last' : 'detail.metric.lastStep', {
            name: c.series.label,
            value: f.number(c.last),
            ...(c.lastStep === null ? {} : { step: c.lastStep }),
            points: c.series.x.length,
          });
          return (
            <figure class="metric" data-metric={c.series.label}>
              <figcaption>
                <h3>{c.series.label}</h3>
                <p class="sub">{summary}</p>
              </figcaption>
              <Chart series={c.series} time={!c.bySteps} label={summary} />
            </figure>
          );
        })}
      </div>
    </Section>
  );
}
