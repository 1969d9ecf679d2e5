import { useState } from 'preact/hooks';
import type { CreateJobRequest } from '../../../sdk/index';
import { ErrorLine, useAction, useApp, useLoad } from '../app-context';
import { estimateJob, parseCommand, parseEnv } from '../logic';
import { go } from '../router';

/**
 * The new-job form. Before submitting it shows what the job may cost at most (its GPUs for its whole
 * maximum runtime, the trial paying first) and how long the balance pays for it, from the account's
 * `available` balance and the public price list.
 */
export function NewJobPage() {
  const { t, f, client } = useApp();
  const [form, setForm] = useState({ name: '', image: 'local/node:20', command: '', gpus: '1', minutes: '60', env: '' });
  const set = (field: keyof typeof form) => (e: { currentTarget: { value: string } }) => setForm({ ...form, [field]: e.currentTarget.value });
  const { data, error: loadError } = useLoad(async () => {
    const [account, prices] = await Promise.all([client.account(), client.prices()]);
    return { account, prices };
  }, []);
  const submit = useAction();

  const gpus = Number(form.gpus);
  const runtime = Math.round(Number(form.minutes) * 60);
  const price = data?.prices.data.find((p) => p.gpu_type === 'a100')?.per_gpu_hour;
  const estimate =
    data && price && Number.isInteger(gpus) && gpus > 0 && runtime > 0
      ? estimateJob({ gpuCount: gpus, maxRuntimeSeconds: runtime, fenPerGpuHour: price.amount, available: data.account.available })
      : null;

  const onSubmit = (e: Event) => {
    e.preventDefault();
    const env = parseEnv(form.env);
    if (!env.ok) return submit.setError(t('new.invalidEnv', { line: env.line }));
    const body: CreateJobRequest = {
      ...(form.name.trim() ? { name: form.name.trim() } : {}),
      image: form.image.trim(),
      command: parseCommand(form.command),
      gpu_count: gpus,
      max_runtime_seconds: runtime,
      ...(Object.keys(env.value).length ? { env: env.value } : {}),
    };
    void submit.act(async () => {
      const job = await client.jobs.create(body);
      go({ page: 'job', id: job.id });
    });
  };

  return (
    <>
      <h1>{t('new.title')}</h1>
      <div class="two-col">
        <form class="card form" onSubmit={onSubmit}>
          <label>
            {t('new.name')}
            <input name="name" value={form.name} onInput={set('name')} maxLength={128} />
          </label>
          <label>
            {t('new.image')}
            <input name="image" required value={form.image} onInput={set('image')} />
          </label>
          <label>
            {t('new.command')}
            <textarea name="command" required rows={4} value={form.command} onInput={set('command')} aria-describedby="command-hint" />
            <span id="command-hint" class="hint">
              {t('new.command.hint')}
            </span>
          </label>
          <div class="row">
            <label>
              {t('new.gpus')}
              <input name="gpus" type="number" min={1} max={64} required value={form.gpus} onInput={set('gpus')} aria-describedby="gpus-hint" />
              <span id="gpus-hint" class="hint">
                {t('new.gpus.hint')}
              </span>
            </label>
            <label>
              {t('new.runtime')}
              <input name="minutes" type="number" min={1} max={20160} step="any" required value={form.minutes} onInput={set('minutes')} />
            </label>
          </div>
          <label>
            {t('new.env')}
            <textarea name="env" rows={3} value={form.env} onInput={set('env')} aria-describedby="env-hint" spellcheck={false} />
            <span id="env-hint" class="hint">
              {t('new.env.hint')}
            </span>
          </label>
          <ErrorLine error={submit.error} />
          <button type="submit" class="primary" disabled={submit.busy}>
            {t('new.submit')}
          </button>
        </form>
        <aside class="card" aria-labelledby="estimate-title" data-testid="estimate">
          <h2 id="estimate-title">{t('new.estimate')}</h2>
          <ErrorLine error={loadError} />
          {price && <p>{t('new.estimate.price', { price: f.money(price) })}</p>}
          {estimate && (
            <>
              <p>
                {t('new.estimate.max', {
                  cost: f.money({ amount: estimate.maxCost, currency: 'CNY' }),
                  time: f.duration(runtime),
                  gpuSeconds: estimate.maxGpuSeconds,
                })}
              </p>
              {estimate.trialGpuSeconds > 0 && <p>{t('new.estimate.trial', { gpuSeconds: estimate.trialGpuSeconds })}</p>}
              <p class={estimate.coveredSeconds < 60 ? 'warn' : ''}>
                {estimate.coveredSeconds < 60 ? t('new.estimate.short') : t('new.estimate.covers', { time: f.duration(estimate.coveredSeconds) })}
              </p>
            </>
          )}
        </aside>
      </div>
    </>
  );
}
