/**
 * Serves the built UI (runtime/ui, bundled by `npm run build` into build/ui)
 * and tells the page who its token stands for.
 *
 * - Files are read once into memory from a fixed list (index.html and
 *   assets/<name>-<hash>.<ext>); a request is an exact lookup in that map, so
 *   no request path ever reaches the filesystem and path traversal cannot
 *   happen.
 * - Hashed assets are `immutable` for a year; index.html is revalidated
 *   (ETag). Content types are set from a short list, with nosniff.
 * - Every page response carries a strict Content-Security-Policy: scripts,
 *   styles and connections only to this origin, no inline code, no framing.
 * - The page needs no token to load (the token is entered in, or carried by,
 *   the URL fragment, which browsers never send); every API call it makes
 *   needs one.
 * - `GET /api/whoami` answers the name and role of the bearer token, so the
 *   page shows control buttons only to admin tokens (its path, role and answer
 *   are in the route table of api-spec.ts, hence in the OpenAPI document).
 *
 * The bundle directory is ORCHESTRATOR_UI_DIR when set, else build/ui next to
 * the compiled code or under the repository.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { routeSpec } from './api-spec';
import { route, type HttpDeps } from './http';

export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // The UI's layout worker (assets/layout-<hash>.js): same-origin files only, never blob: or data:.
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

const ASSET_NAME = /^[A-Za-z0-9_.-]+-[0-9a-f]{8,64}\.[a-z0-9]+$/;
const MAX_FILE_BYTES = 20 * 1024 * 1024;

interface File {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  immutable: boolean;
}

const SECURITY_HEADERS: ReadonlyArray<[string, string]> = [
  ['content-security-policy', UI_CSP],
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  ['x-frame-options', 'DENY'],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
];

export function uiDir(): string {
  const env = process.env.ORCHESTRATOR_UI_DIR;
  if (env) return env;
  // Compiled, this file is build/runtime/app/static.js and the bundle build/ui; run from source
  // (tsx), it is runtime/app/static.ts and the bundle still build/ui.
  const compiled = __filename.endsWith('.js');
  return compiled ? join(__dirname, '..', '..', 'ui') : join(__dirname, '..', '..', 'build', 'ui');
}

function load(dir: string): Map<string, File> | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const files = new Map<string, File>();
  const add = (key: string, path: string, immutable: boolean): void => {
    const type = TYPES[extname(path)];
    if (!type || statSync(path).size > MAX_FILE_BYTES) return;
    const body = readFileSync(path);
    const gz = gzipSync(body, { level: 9 });
    files.set(key, {
      body,
      gzip: gz.length < body.length * 0.9 ? gz : null,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      immutable,
    });
  };
  add('/', join(dir, 'index.html'), false);
  const assets = join(dir, 'assets');
  if (existsSync(assets)) for (const f of readdirSync(assets)) if (ASSET_NAME.test(f)) add(`/assets/${f}`, join(assets, f), true);
  return files;
}

/** Registers the UI routes: `/`, `/index.html`, `/assets/:file` and `/api/whoami`. */
export function registerStatic(app: TemplatedApp, deps: HttpDeps, dir = uiDir()): void {
  let files = load(dir);
  const serve = (key: string) => (res: HttpResponse, req: HttpRequest): void => {
    const t0 = performance.now();
    // A build made after the app started is picked up on the next page load.
    if (files === null || (key === '/' && !files.has('/'))) files = load(dir);
    const f = files?.get(key);
    let status: number;
    res.cork(() => {
      if (!f) {
        status = files === null ? 503 : 404;
        res.writeStatus(status === 503 ? '503 Service Unavailable' : '404 Not Found');
        res.writeHeader('content-type', 'text/plain; charset=utf-8');
        res.writeHeader('cache-control', 'no-store');
        for (const [k, v] of SECURITY_HEADERS) res.writeHeader(k, v);
        res.end(status === 503 ? `The UI is not built (no ${join(dir, 'index.html')}): run npm run build.\n` : 'Not found\n');
        return;
      }
      const inm = req.getHeader('if-none-match');
      const gzip = f.gzip !== null && /\bgzip\b/.test(req.getHeader('accept-encoding'));
      status = inm === f.etag ? 304 : 200;
      res.writeStatus(status === 304 ? '304 Not Modified' : '200 OK');
      res.writeHeader('content-type', f.type);
      res.writeHeader('cache-control', f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      res.writeHeader('etag', f.etag);
      res.writeHeader('vary', 'accept-encoding');
      for (const [k, v] of SECURITY_HEADERS) res.writeHeader(k, v);
      if (status === 304) {
        res.endWithoutBody();
        return;
      }
      if (gzip) res.writeHeader('content-encoding', 'gzip');
      res.end(gzip ? f.gzip! : f.body);
    });
    deps.metrics.http(key === '/' ? 'ui_page' : 'ui_asset', status!, (performance.now() - t0) / 1000);
  };
  app.get('/', serve('/'));
  app.get('/index.html', serve('/'));
  app.get('/assets/:file', (res, req) => serve(`/assets/${req.getParameter(0) ?? ''}`)(res, req));
  const whoami = routeSpec('whoami');
  route(app, 'get', whoami.path, { name: whoami.name, role: whoami.role }, deps, (req) => ({
    status: 200,
    json: { name: req.principal!.name, role: req.principal!.role },
  }));
}
