import { useState } from 'preact/hooks';
import { ErrorLine, Section, ShownOnce, useAction, useApp, useLoad } from '../app-context';

/** API keys: create (shown once), list (never their secrets) and revoke. */
export function KeysPage() {
  const { t, f, client } = useApp();
  const { data, error, reload } = useLoad(() => client.apiKeys.list({ limit: 100 }), []);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const action = useAction();
  return (
    <>
      <h1>{t('keys.title')}</h1>
      <ErrorLine error={error ?? action.error} />
      {created && <ShownOnce intro={t('keys.created')} secret={created} />}
      <Section title={t('keys.create')} id="create-key-title">
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            void action.act(async () => {
              const key = await client.apiKeys.create(name.trim() ? { name: name.trim() } : {});
              setCreated(key.api_key);
              setName('');
              await reload();
            });
          }}
        >
          <label class="grow">
            {t('keys.name')}
            <input name="name" maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <button type="submit" class="primary" disabled={action.busy}>
            {t('keys.create.submit')}
          </button>
        </form>
      </Section>
      {data && data.data.length === 0 && <p class="empty">{t('keys.empty')}</p>}
      {data && data.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid="keys">
            <thead>
              <tr>
                <th scope="col">{t('col.name')}</th>
                <th scope="col">{t('col.id')}</th>
                <th scope="col">{t('col.created')}</th>
                <th scope="col">{t('col.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {data.data.map((key) => (
                <tr data-key={key.id}>
                  <td>{key.name ?? '—'}</td>
                  <td class="mono">{key.id}</td>
                  <td>{f.dateTime(key.created_at)}</td>
                  <td>
                    <button
                      type="button"
                      class="danger"
                      disabled={action.busy}
                      onClick={() => {
                        if (confirm(t('keys.revoke.confirm'))) void action.act(() => client.apiKeys.revoke(key.id)).then(() => reload());
                      }}
                    >
                      {t('keys.revoke')}
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
