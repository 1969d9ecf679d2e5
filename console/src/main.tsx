// First: before any module builds a zod schema.
import './zod-jitless';
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { Ctx, localeTools, type AppContext } from './app-context';
import { pickLocale, type Locale } from './i18n';
import { AuthPage } from './pages/auth';
import { BillingPage } from './pages/billing';
import { FilesPage } from './pages/files';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { KeysPage } from './pages/keys';
import { NewJobPage } from './pages/new-job';
import { WebhooksPage } from './pages/webhooks';
import { href, useRoute, type Route } from './router';
import { clientFor, forgetKey, storedKey, storeKey } from './session';
import './style.css';

const LOCALE_KEY = 'sx.locale';

function initialLocale(): Locale {
  const chosen = localStorage.getItem(LOCALE_KEY);
  return chosen === 'en' || chosen === 'zh-CN' ? chosen : pickLocale(navigator.languages ?? [navigator.language]);
}

function App() {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const [apiKey, setApiKey] = useState<string | null>(storedKey);
  const route = useRoute();
  const setLocale = useCallback((next: Locale) => {
    // The language is a preference, not a secret: it may outlive the tab.
    localStorage.setItem(LOCALE_KEY, next);
    setLocaleState(next);
  }, []);
  const signOut = useCallback(() => {
    forgetKey();
    setApiKey(null);
  }, []);
  const tools = useMemo(() => localeTools(locale), [locale]);

  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = tools.t('app.name');
  }, [locale, tools]);

  const ctx = useMemo<AppContext | null>(
    () => (apiKey ? { locale, setLocale, ...tools, client: clientFor(apiKey), apiKey, signOut } : null),
    [apiKey, locale, setLocale, tools, signOut],
  );
  const switchLanguage = (
    <button type="button" class="lang" lang={locale === 'en' ? 'zh-CN' : 'en'} onClick={() => setLocale(locale === 'en' ? 'zh-CN' : 'en')}>
      {tools.t('lang.switch')}
    </button>
  );

  if (!ctx) {
    return (
      <>
        <header class="top">
          <span class="brand">{tools.t('app.name')}</span>
          {switchLanguage}
        </header>
        <main>
          <AuthPage
            locale={locale}
            onSignedIn={(key) => {
              storeKey(key);
              setApiKey(key);
              location.hash = '#/jobs';
            }}
          />
        </main>
      </>
    );
  }
  const { t } = tools;
  const nav: Array<[Route, string]> = [
    [{ page: 'jobs' }, t('nav.jobs')],
    [{ page: 'new' }, t('nav.new')],
    [{ page: 'files' }, t('nav.files')],
    [{ page: 'billing' }, t('nav.billing')],
    [{ page: 'webhooks' }, t('nav.webhooks')],
    [{ page: 'keys' }, t('nav.keys')],
  ];
  const current = route.page === 'job' ? 'jobs' : route.page;
  return (
    <Ctx.Provider value={ctx}>
      <header class="top">
        <a class="brand" href="#/jobs">
          {t('app.name')}
        </a>
        <nav aria-label={t('nav.main')}>
          {nav.map(([r, label]) => (
            <a href={href(r)} aria-current={r.page === current ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        {switchLanguage}
        <button type="button" class="link" onClick={signOut}>
          {t('nav.signout')}
        </button>
      </header>
      <main>
        <Page route={route} />
      </main>
    </Ctx.Provider>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'jobs':
      return <JobsPage />;
    case 'job':
      // Keyed: another job is a fresh page (its own state, polling until it ends).
      return <JobPage key={route.id} id={route.id} />;
    case 'new':
      return <NewJobPage />;
    case 'billing':
      return <BillingPage />;
    case 'files':
      return <FilesPage />;
    case 'webhooks':
      return <WebhooksPage />;
    case 'keys':
      return <KeysPage />;
  }
}

render(<App />, document.getElementById('app')!);
