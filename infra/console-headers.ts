/**
 * The security headers of the web console's pages and assets, one source for the local stack and
 * CloudFront. Plain data: no CDK import.
 *
 * The Content-Security-Policy allows scripts, styles and connections to the console's own origin
 * only (the API shares it): no inline script, no `eval`, no third-party origin. `connectSources`
 * adds origins the console must reach beyond its own (an object store's signed upload URLs).
 */
export function consoleCsp(connectSources: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${["'self'", ...connectSources].join(' ')}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The other headers every console response carries. */
export const consoleSecurityHeaders = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'cross-origin-opener-policy': 'same-origin',
} as const;
