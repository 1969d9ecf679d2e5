import { useState } from 'preact/hooks';
import type { CreateJobRequest } from '../../../sdk/index';
import { ErrorLine, useAction, useApp, useLoad } from '../app-context';
import { estimateJob, inputName, parseCommand, parseEnv, parseMetricDefinitions } from '../logic';
import { go } from '../router';

/**
 * The new-job form. Before submitting it shows what the job may cost at most (its GPUs for its whole
 * maximum runtime, the trial paying first) and how long the balance pays for it, from the account's
 * `available` balance and the public price list.
 */
export function NewJobPage() {
  const { t, f, client, locale } = useApp();
  const [form, setForm] = useState({ name: '', image: 'local/node:20', command: '', gpus: '1', minutes: '60', env: '', metrics: '' });
  const set = (field: keyof typeof form) => (e: { currentTarget: { value: string } }) => setForm({ ...form, [field]: e.currentTarget.value });
  const { data, error: loadError } = useLoad(async () => {
    const [account, prices, files] = await Promise.all([client.account(), client.prices(), client.files.list({ limit: 100 })]);
    return { account, prices, files: files.data.filter((file) => file.status === 'ready') };
  }, []);
  const submit = useAction();
  const upload = useAction();
  const [inputs, setInputs] = useState<Array<{ name: string; fileId: string; filename: string }>>([]);
  const [pick, setPick] = useState({ fileId: '', name: '' });
  const [uploading, setUploading] = useState<{ name: string; done: number; total: number } | null>(null);
  const addInput = (fileId: string, filename: string, name = inputName(filename)) =>
    setInputs((list) => [...list.filter((i) => i.name !== name), { name, fileId, filename }]);

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
    const metrics = parseMetricDefinitions(form.metrics);
    if (!metrics.ok) return submit.setError(t('new.invalidMetric', { line: metrics.line }));
    const body: CreateJobRequest = {
      ...(form.name.trim() ? { name: form.name.trim() } : {}),
      image: form.image.trim(),
      command: parseCommand(form.command),
      gpu_count: gpus,
      max_runtime_seconds: runtime,
      ...(Object.keys(env.value).length ? { env: env.value } : {}),
      ...(metrics.value.length ? { metric_definitions: metrics.value } : {}),
      ...(inputs.length ? { inputs: inputs.map((i) => ({ name: i.name, file_id: i.fileId })) } : {}),
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
          <label>
            {t('new.metrics')}
            <textarea name="metrics" rows={2} value={form.metrics} onInput={set('metrics')} aria-describedby="metrics-hint" spellcheck={false} />
            <span id="metrics-hint" class="hint">
              {t('new.metrics.hint')}
            </span>
          </label>
          <fieldset>
            <legend>{t('new.inputs')}</legend>
            <p class="hint">{t('new.inputs.hint')}</p>
            {inputs.length === 0 && <p class="empty">{t('new.inputs.none')}</p>}
            <ul class="files" data-testid="inputs">
              {inputs.map((i) => (
                <li>
                  <span class="mono">{i.name}</span> ← {i.filename}{' '}
                  <button type="button" class="link" onClick={() => setInputs((list) => list.filter((x) => x.name !== i.name))}>
                    {t('new.inputs.remove')}
                  </button>
                </li>
              ))}
            </ul>
            <div class="row">
              <label>
                {t('new.inputs.file')}
                <select
                  name="input-file"
                  value={pick.fileId}
                  onChange={(e) => {
                    const file = data?.files.find((x) => x.id === e.currentTarget.value);
                    setPick({ fileId: e.currentTarget.value, name: file ? inputName(file.filename) : '' });
                  }}
                >
                  <option value="">—</option>
                  {data?.files.map((file) => (
                    <option value={file.id}>{file.filename}</option>
                  ))}
                </select>
              </label>
              <label>
                {t('new.inputs.name')}
                <input name="input-name" value={pick.name} pattern="[a-z0-9_\-]{1,64}" onInput={(e) => setPick({ ...pick, name: e.currentTarget.value })} />
              </label>
              <button
                type="button"
                disabled={!pick.fileId || !pick.name}
                onClick={() => {
                  const file = data?.files.find((x) => x.id === pick.fileId);
                  if (file) addInput(file.id, file.filename, pick.name);
                  setPick({ fileId: '', name: '' });
                }}
              >
                {t('new.inputs.add')}
              </button>
            </div>
            <label>
              {t('new.inputs.upload')}
              <input
                type="file"
                name="input-upload"
                disabled={upload.busy}
                onChange={(e) => {
                  const file = e.currentTarget.files?.[0];
                  if (!file) return;
                  setUploading({ name: file.name, done: 0, total: file.size });
                  void upload
                    .act(async () => {
                      const ready = await client.files.upload(file, {
                        purpose: 'dataset',
                        onProgress: (p) => setUploading({ name: file.name, done: p.uploadedBytes, total: p.totalBytes }),
                      });
                      addInput(ready.id, ready.filename);
                    })
                    .finally(() => setUploading(null));
                }}
              />
            </label>
            {uploading && (
              <div role="status">
                <p>
                  {t('files.progress', {
                    name: uploading.name,
                    percent: new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(uploading.total ? uploading.done / uploading.total : 0),
                  })}
                </p>
                <progress max={uploading.total} value={uploading.done} aria-label={uploading.name} />
              </div>
            )}
            <ErrorLine error={upload.error} />
          </fieldset>
          <ErrorLine error={submit.error} />
          <button type="submit" class="primary" disabled={submit.busy || upload.busy}>
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
