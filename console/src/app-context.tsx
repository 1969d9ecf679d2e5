import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { SxClient } from '../../sdk/client';
import { SxApiError } from '../../sdk/errors';
import { formatters, translate, type Formatters, type Locale, type MessageKey, type Params } from './i18n';
import { errorSentence } from './logic';

export interface AppContext {
  locale: Locale;
  setLocale: (locale: Locale) => void;
  t: (key: MessageKey, params?: Params) => string;
  f: Formatters;
  client: SxClient;
  /** The key this tab signed in with (to mark it in the key list). */
  apiKey: string;
  signOut: () => void;
}

export const Ctx = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error('useApp outside the signed-in console');
  return ctx;
}

/** Locale-bound translation and formatters, for the pages before sign-in too. */
export const localeTools = (locale: Locale) => ({ t: (key: MessageKey, params?: Params) => translate(locale, key, params), f: formatters(locale) });

/**
 * Loads data for a page: `load` runs at mount, when `deps` change (the data shown is cleared then),
 * on `reload()` and every `pollMs` while the page is visible (for live status). A change of `pollMs`
 * alone (stopping once a job has ended) keeps what is shown. A 401 signs the tab out: the key was revoked.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number) {
  const { t, signOut } = useApp();
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(load);
  latest.current = load;
  const generation = useRef(0);
  const lastDeps = useRef<unknown[] | null>(null);

  const run = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const value = await latest.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(null);
    } catch (e) {
      if (mine !== generation.current) return;
      if (e instanceof SxApiError && e.status === 401) return signOut();
      setError(errorSentence(e, t));
    }
  }, [t, signOut]);

  useEffect(() => {
    const previous = lastDeps.current;
    lastDeps.current = deps;
    if (!previous || previous.length !== deps.length || deps.some((d, i) => !Object.is(d, previous[i]))) {
      setData(undefined);
      void run();
    }
    if (!pollMs) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void run();
    }, pollMs);
    return () => clearInterval(timer);
  }, [...deps, pollMs]);
  // Unmounted: an answer still on its way is dropped.
  useEffect(() => () => void generation.current++, []);

  return { data, error, reload: run, setData };
}

/** Runs an action from a button or form: its error as one sentence, and whether it is running. */
export function useAction() {
  const { t, signOut } = useApp();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = useCallback(
    async <R,>(action: () => Promise<R>): Promise<R | undefined> => {
      setBusy(true);
      setError(null);
      try {
        return await action();
      } catch (e) {
        if (e instanceof SxApiError && e.status === 401) signOut();
        else setError(errorSentence(e, t));
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [t, signOut],
  );
  return { act, error, setError, busy };
}

export function ErrorLine({ error }: { error: string | null | undefined }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

/** Copies `text`; `labels` are the button's words before and after (the pages before sign-in have no context). */
export function CopyButton({ text, labels }: { text: string; labels: [copy: string, copied: string] }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      aria-live="polite"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 2000);
        });
      }}
    >
      {copied ? labels[1] : labels[0]}
    </button>
  );
}

/** A secret shown once (an API key, a signing secret), with a copy button. Text only, never HTML. */
export function ShownOnce({ intro, secret }: { intro: string; secret: string }) {
  const { t } = useApp();
  return (
    <div class="secret" role="status">
      <p>{intro}</p>
      <div class="secret-row">
        <code data-testid="secret">{secret}</code>
        <CopyButton text={secret} labels={[t('copy'), t('copied')]} />
      </div>
    </div>
  );
}

export function Status({ status }: { status: string }) {
  const { t } = useApp();
  const key = `status.${status}` as MessageKey;
  return <span class={`badge badge-${status}`}>{t(key)}</span>;
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}
