import { useState } from 'preact/hooks';
import type { WebhookEndpoint } from '../../../sdk/client';
import { ErrorLine, Section, ShownOnce, Status, useAction, useApp, useLoad } from '../app-context';

/** Webhook endpoints: add (secret shown once), rotate the secret, enable, delete, and each one's delivery log with retry. */
export function WebhooksPage() {
  const { t, client } = useApp();
  const { data, error, reload } = useLoad(() => client.webhookEndpoints.list(), [], 10_000);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const action = useAction();

  const endpointAction = (run: () => Promise<unknown>) => void action.act(run).then(() => reload());

  return (
    <>
      <h1>{t('webhooks.title')}</h1>
      <ErrorLine error={error ?? action.error} />
      {secret && <ShownOnce intro={t('webhooks.secret', { url: secret.url })} secret={secret.secret} />}
      <Section title={t('webhooks.add')} id="add-title">
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            const types = events
              .split(/[\s,]+/)
              .map((s) => s.trim())
              .filter(Boolean);
            void action.act(async () => {
              const created = await client.webhookEndpoints.create({ url: url.trim(), ...(types.length ? { events: types as never } : {}) });
              setSecret({ url: created.url, secret: created.secret });
              setUrl('');
              setEvents('');
              setOpen(created.id);
              await reload();
            });
          }}
        >
          <label class="grow">
            {t('webhooks.url')}
            <input name="url" type="url" required placeholder="https://" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          </label>
          <label class="grow">
            {t('webhooks.events')}
            <input name="events" placeholder="job.succeeded, job.failed" value={events} onInput={(e) => setEvents(e.currentTarget.value)} />
          </label>
          <button type="submit" class="primary" disabled={action.busy}>
            {t('webhooks.add.submit')}
          </button>
        </form>
      </Section>
      {data && data.data.length === 0 && <p class="empty">{t('webhooks.empty')}</p>}
      {data?.data.map((endpoint) => (
        <EndpointCard
          endpoint={endpoint}
          open={open === endpoint.id}
          onToggle={() => setOpen(open === endpoint.id ? null : endpoint.id)}
          onRotate={() =>
            endpointAction(async () => {
              const rotated = await client.webhookEndpoints.rotateSecret(endpoint.id);
              setSecret({ url: rotated.url, secret: rotated.secret });
            })
          }
          onEnable={() => endpointAction(() => client.webhookEndpoints.enable(endpoint.id))}
          onDelete={() => {
            if (confirm(t('confirm.delete'))) endpointAction(() => client.webhookEndpoints.delete(endpoint.id));
          }}
        />
      ))}
    </>
  );
}

function EndpointCard(props: { endpoint: WebhookEndpoint; open: boolean; onToggle: () => void; onRotate: () => void; onEnable: () => void; onDelete: () => void }) {
  const { t, f } = useApp();
  const { endpoint } = props;
  return (
    <section class="card" aria-label={endpoint.url} data-endpoint={endpoint.id}>
      <div class="page-head">
        <h2 class="mono">{endpoint.url}</h2>
        <Status status={endpoint.status} />
      </div>
      <p class="sub">
        {endpoint.events.includes('*') ? t('webhooks.allEvents') : endpoint.events.join(', ')} · {f.dateTime(endpoint.created_at)}
      </p>
      <div class="actions">
        <button type="button" aria-expanded={props.open} onClick={props.onToggle}>
          {t('webhooks.show')}
        </button>
        <button type="button" onClick={props.onRotate}>
          {t('webhooks.rotate')}
        </button>
        {endpoint.status === 'disabled' && (
          <button type="button" onClick={props.onEnable}>
            {t('webhooks.enable')}
          </button>
        )}
        <button type="button" class="danger" onClick={props.onDelete}>
          {t('webhooks.delete')}
        </button>
      </div>
      {props.open && <Deliveries endpointId={endpoint.id} />}
    </section>
  );
}

function Deliveries({ endpointId }: { endpointId: string }) {
  const { t, f, client } = useApp();
  const { data, error, reload } = useLoad(() => client.webhookEndpoints.deliveries(endpointId, { limit: 20 }), [endpointId], 3000);
  const retry = useAction();
  const [note, setNote] = useState<string | null>(null);
  return (
    <div>
      <h3>{t('webhooks.deliveries')}</h3>
      <ErrorLine error={error ?? retry.error} />
      {note && (
        <p class="ok" role="status">
          {note}
        </p>
      )}
      {data && data.data.length === 0 && <p class="empty">{t('webhooks.deliveries.empty')}</p>}
      {data && data.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid="deliveries">
            <thead>
              <tr>
                <th scope="col">{t('col.event')}</th>
                <th scope="col">{t('col.status')}</th>
                <th scope="col">{t('col.code')}</th>
                <th scope="col">{t('col.attempts')}</th>
                <th scope="col">{t('col.time')}</th>
                <th scope="col">{t('col.next')}</th>
                <th scope="col">{t('col.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {data.data.map((d) => {
                const last = d.attempts[d.attempts.length - 1];
                return (
                  <tr>
                    <td class="mono">{d.event_type}</td>
                    <td>
                      <Status status={d.status} />
                    </td>
                    <td class="num">{last ? (last.status_code ?? last.error ?? '') : ''}</td>
                    <td class="num">{f.number(d.attempt_count)}</td>
                    <td>{f.dateTime(d.created_at)}</td>
                    <td>{d.next_attempt_at ? f.dateTime(d.next_attempt_at) : '—'}</td>
                    <td>
                      {d.status !== 'pending' && (
                        <button
                          type="button"
                          disabled={retry.busy}
                          onClick={() =>
                            void retry.act(async () => {
                              await client.webhookEndpoints.retryDelivery(endpointId, d.id);
                              setNote(t('webhooks.retried'));
                              await reload();
                            })
                          }
                        >
                          {t('webhooks.retry')}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
