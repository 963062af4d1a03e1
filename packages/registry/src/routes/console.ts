import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detailError } from '../http.js';
import type { Route } from '../router.js';

/**
 * The web console (packages/console), built by `npm run bundle` into dist/registry/console/. Served from the
 * API's origin so the page needs no CORS and its presigned URLs are same-origin; read once at start-up.
 */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
};

// The page loads only its own files and talks only to this origin; nothing inline, nothing from elsewhere.
const CSP = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function consoleDir(): string | undefined {
  // In the ncc bundle (CommonJS) `__dirname` is dist/registry; from source (tsx, ESM) this file's folder.
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'console'), join(here, '../../../../dist/registry/console')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

export function consoleRoutes(): Route[] {
  const dir = consoleDir();
  const files = new Map<string, { body: Buffer; etag: string }>();
  const serve = (name: string) => {
    if (!dir || !/^[a-z0-9-]+\.(html|js|css|wasm)$/.test(name)) throw detailError(404, 'Not Found');
    let body = files.get(name);
    if (!body) {
      const path = join(dir, name);
      if (!existsSync(path)) throw detailError(404, 'Not Found');
      const bytes = readFileSync(path);
      body = { body: bytes, etag: `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"` };
      files.set(name, body);
    }
    return { name, ...body };
  };
  const handler = (name: string): Route['handler'] => {
    return ({ res, req }) => {
      const file = serve(name);
      const ext = file.name.slice(file.name.lastIndexOf('.'));
      const headers = {
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        // Asset names carry no hash, so the browser revalidates (cheap, by ETag): never a stale console.
        'cache-control': 'no-cache',
        etag: file.etag,
      };
      if (req.headers['if-none-match'] === file.etag) {
        res.writeHead(304, headers);
        res.end();
        return undefined;
      }
      res.writeHead(200, {
        ...headers,
        'content-type': TYPES[ext]!,
        'content-length': String(file.body.length),
      });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return undefined;
    };
  };
  return [
    { method: 'GET', pattern: '/console', auth: false, handler: handler('index.html') },
    {
      method: 'GET',
      pattern: '/console/:file',
      auth: false,
      handler: (request) => handler(request.params.file!)(request),
    },
  ];
}
