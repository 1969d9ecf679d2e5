import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { consoleCsp, consoleSecurityHeaders } from '../console-headers';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Serves the built console (see console/build.ts) the way CloudFront does in AWS: `/` is
 * `index.html` (never cached, so a new build is picked up), `/assets/*` are content-hashed and
 * cached for a year, every answer with the console's Content-Security-Policy. Anything else is
 * `null`, for the caller's 404. Paths cannot leave `dir`.
 */
export function consoleAssets(dir: string, options: { connectSources?: readonly string[] } = {}) {
  const headers = { ...consoleSecurityHeaders, 'content-security-policy': consoleCsp(options.connectSources) };
  return async (path: string): Promise<APIGatewayProxyStructuredResultV2 | null> => {
    const file = path === '/' || path === '/index.html' ? 'index.html' : path.startsWith('/assets/') ? path.slice(1) : null;
    if (!file) return null;
    const full = normalize(join(dir, file));
    if (!full.startsWith(dir + sep)) return null;
    const body = await readFile(full).catch(() => null);
    if (!body) return null;
    return {
      statusCode: 200,
      headers: {
        ...headers,
        'content-type': TYPES[extname(full)] ?? 'application/octet-stream',
        'cache-control': file === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
      },
      body: body.toString('base64'),
      isBase64Encoded: true,
    };
  };
}
