import { useState } from 'preact/hooks';
import { CopyButton, localeTools } from '../app-context';
import type { Locale } from '../i18n';
import { errorSentence } from '../logic';
import { clientFor } from '../session';

/** Sign up (the new key shown once, with a copy button) or sign in with a key. */
export function AuthPage({ locale, onSignedIn }: { locale: Locale; onSignedIn: (apiKey: string) => void }) {
  const { t } = localeTools(locale);
  const [email, setEmail] = useState('');
  const [key, setKey] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(errorSentence(e, t));
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <section class="card narrow">
        <h1>{t('auth.signup')}</h1>
        <p role="status">{t('auth.created')}</p>
        <div class="secret-row">
          <code data-testid="secret">{created}</code>
          <CopyButton text={created} labels={[t('copy'), t('copied')]} />
        </div>
        <p class="hint">{t('auth.session')}</p>
        <button type="button" class="primary" onClick={() => onSignedIn(created)}>
          {t('auth.continue')}
        </button>
      </section>
    );
  }

  return (
    <div class="auth">
      <h1>{t('auth.title')}</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="auth-grid">
        <form
          class="card"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const answer = await clientFor().signup({ email: email.trim() });
              setCreated(answer.api_key);
            });
          }}
        >
          <h2>{t('auth.signup')}</h2>
          <p class="hint">{t('auth.signup.hint')}</p>
          <label>
            {t('auth.email')}
            <input type="email" name="email" required autoComplete="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            {t('auth.signup.submit')}
          </button>
        </form>
        <form
          class="card"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const candidate = key.trim();
              // Check the key before keeping it: a wrong one gets a sentence here, not a broken console.
              await clientFor(candidate).account();
              onSignedIn(candidate);
            });
          }}
        >
          <h2>{t('auth.signin')}</h2>
          <p class="hint">{t('auth.session')}</p>
          <label>
            {t('auth.key')}
            <input type="password" name="api-key" required autoComplete="off" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            {t('auth.signin.submit')}
          </button>
        </form>
      </div>
    </div>
  );
}
