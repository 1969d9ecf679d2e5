import { useMemo, useState } from 'preact/hooks';
import { Chart } from '../chart';
import { ErrorLine, Section, useAction, useApp, useLoad } from '../app-context';
import { gpuSecondsPerDay } from '../logic';

const DAYS = 30;

/** Trial, credits with expiry, what is held, usage lines with a chart per day, and redeeming a voucher. */
export function BillingPage() {
  const { t, f, client } = useApp();
  const { data, error, reload } = useLoad(async () => {
    const to = new Date();
    const from = new Date(to.getTime() - DAYS * 86_400_000);
    const [account, usage] = await Promise.all([client.account(), client.usage({ from: from.toISOString(), to: to.toISOString() })]);
    return { account, usage, from: from.getTime(), to: to.getTime() };
  }, [], 10_000);
  const [code, setCode] = useState('');
  const [redeemed, setRedeemed] = useState<string | null>(null);
  const redeem = useAction();
  const perDay = useMemo(() => (data ? gpuSecondsPerDay(data.usage.data, data.from, data.to) : []), [data]);
  const series = useMemo(() => ({ label: t('billing.chart'), x: perDay.map((d) => d.dayMs / 1000), y: perDay.map((d) => d.gpuSeconds) }), [perDay, t]);

  if (!data) {
    return (
      <>
        <h1>{t('billing.title')}</h1>
        <ErrorLine error={error} />
        {!error && <p aria-busy="true">{t('loading')}</p>}
      </>
    );
  }
  const { account, usage } = data;
  const total = perDay.reduce((n, d) => n + d.gpuSeconds, 0);
  return (
    <>
      <h1>{t('billing.title')}</h1>
      <ErrorLine error={error} />
      <div class="grid">
        <Section title={t('billing.trial')} id="trial-title">
          <p data-testid="trial">
            {t('billing.trial.left', { left: account.trial.gpu_seconds_remaining, granted: account.trial.gpu_seconds_granted })}
          </p>
          <meter min={0} max={account.trial.gpu_seconds_granted} value={account.trial.gpu_seconds_remaining} aria-label={t('billing.trial')} />
        </Section>
        <Section title={t('billing.available')} id="available-title">
          <p class="big" data-testid="available">
            {f.money(account.available.amount)}
          </p>
          <p>
            {t('billing.held')}: {t('billing.held.value', { amount: f.money(account.held.amount), gpuSeconds: account.held.gpu_seconds })}
          </p>
        </Section>
        <Section title={t('billing.redeem')} id="redeem-title">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              setRedeemed(null);
              void redeem.act(async () => {
                const { credit } = await client.vouchers.redeem(code.trim());
                setRedeemed(t('billing.redeemed', { amount: f.money(credit.granted) }));
                setCode('');
                await reload();
              });
            }}
          >
            <label>
              {t('billing.code')}
              <input name="code" required autoComplete="off" value={code} onInput={(e) => setCode(e.currentTarget.value)} />
            </label>
            <button type="submit" class="primary" disabled={redeem.busy}>
              {t('billing.redeem.submit')}
            </button>
          </form>
          <ErrorLine error={redeem.error} />
          {redeemed && (
            <p class="ok" role="status">
              {redeemed}
            </p>
          )}
        </Section>
      </div>
      <Section title={t('billing.credits')} id="credits-title">
        {account.credits.length === 0 ? (
          <p class="empty">{t('billing.credits.empty')}</p>
        ) : (
          <div class="table-wrap">
            <table data-testid="credits">
              <thead>
                <tr>
                  <th scope="col">{t('col.amount')}</th>
                  <th scope="col">{t('col.remaining')}</th>
                  <th scope="col">{t('billing.held')}</th>
                  <th scope="col">{t('col.expires')}</th>
                  <th scope="col">{t('col.created')}</th>
                </tr>
              </thead>
              <tbody>
                {account.credits.map((c) => (
                  <tr>
                    <td class="num">{f.money(c.granted)}</td>
                    <td class="num">{f.money(c.remaining)}</td>
                    <td class="num">{f.money(c.held)}</td>
                    <td>{c.expires_at ? f.dateTime(c.expires_at) : t('billing.never')}</td>
                    <td>{f.dateTime(c.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title={t('billing.usage')} id="usage-title">
        <p>{t('billing.total', { gpuSeconds: usage.total.gpu_seconds, cost: f.money(usage.total.cost) })}</p>
        <h3>{t('billing.chart')}</h3>
        <div data-testid="usage-chart">
          <Chart series={series} bars label={t('billing.chart.label', { total })} />
        </div>
        {usage.data.length === 0 ? (
          <p class="empty">{t('billing.usage.empty')}</p>
        ) : (
          <div class="table-wrap">
            <table data-testid="usage">
              <thead>
                <tr>
                  <th scope="col">{t('col.job')}</th>
                  <th scope="col">{t('col.source')}</th>
                  <th scope="col">{t('col.gpuSeconds')}</th>
                  <th scope="col">{t('col.cost')}</th>
                  <th scope="col">{t('col.period')}</th>
                </tr>
              </thead>
              <tbody>
                {usage.data.map((line) => (
                  <tr>
                    <td>
                      <a href={`#/jobs/${line.job_id}`}>{line.job_id}</a>
                    </td>
                    <td>{line.source === 'trial' ? t('billing.source.trial') : t('billing.source.credit')}</td>
                    <td class="num">{f.number(line.gpu_seconds)}</td>
                    <td class="num">{f.money(line.cost)}</td>
                    <td>
                      {f.dateTime(line.period_start)} – {f.dateTime(line.period_end)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}
