import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (`#/jobs`, `#/jobs/job_…`): the console is one static `index.html`, so any host
 * (the local stack, S3 behind CloudFront) serves every page without rewrite rules.
 */
export type Route =
  | { page: 'jobs' }
  | { page: 'job'; id: string }
  | { page: 'new' }
  | { page: 'billing' }
  | { page: 'files' }
  | { page: 'webhooks' }
  | { page: 'keys' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const job = /^\/jobs\/([\w-]+)$/.exec(path);
  if (job) return { page: 'job', id: job[1]! };
  switch (path) {
    case '/new':
      return { page: 'new' };
    case '/billing':
      return { page: 'billing' };
    case '/files':
      return { page: 'files' };
    case '/webhooks':
      return { page: 'webhooks' };
    case '/keys':
      return { page: 'keys' };
    default:
      return { page: 'jobs' };
  }
}

export const href = (route: Route) => (route.page === 'job' ? `#/jobs/${route.id}` : `#/${route.page}`);
export const go = (route: Route) => {
  location.hash = href(route);
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
