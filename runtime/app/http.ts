/**
 * HTTP on uWebSockets.js: one wrapper that every route goes through, so that
 * authentication, query validation, body limits, error bodies, logging and the
 * request metrics are the same everywhere and no handler can forget them.
 *
 * uWS specifics handled here once: the request object is only valid during the
 * synchronous part of the handler (headers and parameters are copied first);
 * a response may be aborted by the client at any time (nothing is written after
 * `onAborted`); asynchronous writes are corked; body chunks are copied because
 * uWS reuses their memory after the callback returns.
 */
import uWS, { type HttpRequest, type HttpResponse, type TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../common/logging';
import { allows, type Access, type Principal, type TokenStore } from './auth';
import { AppError } from './errors';
import { queryObject, type Schema } from './schema';

export interface Req {
  method: string;
  path: string;
  /** Route parameters, URL-decoded, in pattern order. */
  params: string[];
  /** Query parameters, checked against the route's query schema. */
  query: Record<string, unknown>;
  headers: ReadonlyMap<string, string>;
  principal: Principal | null;
  body: Buffer | null;
  remote: string;
  /** performance.now() when the request arrived. */
  started: number;
  /** Wall clock ms when the request arrived. */
  arrivedAt: number;
}

export interface Reply {
  status: number;
  /** Serialised as JSON unless `raw` is given. */
  json?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RouteDef {
  /** The route's label in metrics and logs (the pattern, not the URL: bounded cardinality). */
  name: string;
  /** Role needed (`any`: a token of any role); null for the unauthenticated liveness route. */
  role: Access | null;
  query?: Schema;
  /** Read a body of at most this many bytes (413 beyond). */
  maxBodyBytes?: number;
  /** Runs before the body is read: throw an AppError to refuse early (e.g. overload). */
  admit?: (req: Req) => void;
}

/** What the wrapper counts of every request (AppMetrics on the front; the ingest listener's tally on the model thread). */
export interface RequestMetrics {
  http(route: string, code: number, seconds: number): void;
}

export interface HttpDeps {
  tokens: TokenStore;
  metrics: RequestMetrics;
  log: Logger;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 202: 'Accepted', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

const MAX_HEADERS = 64;

export function copyHeaders(req: HttpRequest): Map<string, string> {
  const h = new Map<string, string>();
  req.forEach((k, v) => {
    if (h.size < MAX_HEADERS) h.set(k, v);
  });
  return h;
}

function decodeParam(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new AppError(400, 'BAD_REQUEST', 'a path parameter is not valid percent-encoding');
  }
}

/** Writes a reply (the caller corks when outside the synchronous handler). */
export function writeReply(res: HttpResponse, reply: Reply, closeConnection = false): void {
  const body = reply.raw ?? JSON.stringify(reply.json ?? null);
  res.writeStatus(`${reply.status} ${STATUS_TEXT[reply.status] ?? ''}`);
  res.writeHeader('content-type', reply.contentType ?? 'application/json');
  res.writeHeader('cache-control', 'no-store');
  res.writeHeader('x-content-type-options', 'nosniff');
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.writeHeader(k, v);
  res.end(body, closeConnection);
}

export function errorReply(err: AppError): Reply {
  const headers: Record<string, string> = {};
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
  if (err.status === 401) headers['www-authenticate'] = 'Bearer';
  return { status: err.status, json: err.toBody(), headers };
}

/** The principal of a request's bearer token; throws 401/403 as the role demands. */
export function authenticate(tokens: TokenStore, authorization: string | undefined, role: Access): Principal {
  if (!authorization) throw new AppError(401, 'UNAUTHENTICATED', 'an Authorization: Bearer <token> header is required');
  const p = tokens.fromHeader(authorization);
  if (!p) throw new AppError(401, 'UNAUTHENTICATED', 'the bearer token is not known');
  if (!allows(p.role, role)) throw new AppError(403, 'FORBIDDEN', `this needs the ${role} role; the token has ${p.role}`);
  return p;
}

/** Certificate and key files (PEM) that make an app serve HTTPS/WSS. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  passphrase?: string;
}

/** A uWS app, over TLS when given certificate files (the app's own listener and the ingest listener). */
export function uwsApp(tls?: TlsFiles): TemplatedApp {
  return tls ? uWS.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile, ...(tls.passphrase ? { passphrase: tls.passphrase } : {}) }) : uWS.App();
}

/** Ends every socket of the app (its listening sockets are closed by the caller first). */
export function closeUwsApp(app: TemplatedApp): void {
  // close() exists in this uWS build (it ends every socket) but is missing from its typings.
  (app as unknown as { close(): void }).close();
}

/** Answers every request no route took with 404 NOT_FOUND, counted as route `unmatched`; `why` ends the message. */
export function unmatchedRoute(app: TemplatedApp, metrics: RequestMetrics, why = ''): void {
  app.any('/*', (res, req) => {
    const t0 = performance.now();
    writeReply(res, errorReply(new AppError(404, 'NOT_FOUND', `no route ${req.getMethod().toUpperCase()} ${req.getUrl().slice(0, 200)}${why}`)));
    metrics.http('unmatched', 404, (performance.now() - t0) / 1000);
  });
}

/** Registers one route on the app. */
export function route(
  app: TemplatedApp,
  method: 'get' | 'post' | 'del' | 'any',
  pattern: string,
  def: RouteDef,
  deps: HttpDeps,
  handler: (req: Req) => Reply | Promise<Reply>,
): void {
  const paramCount = (pattern.match(/\/:/g) ?? []).length;
  app[method](pattern, (res: HttpResponse, uReq: HttpRequest) => {
    const started = performance.now();
    let aborted = false;
    let sync = true;
    res.onAborted(() => {
      aborted = true;
    });
    const finish = (reply: Reply, close = false): void => {
      if (aborted) return;
      const write = (): void => writeReply(res, reply, close);
      if (sync) write();
      else res.cork(write);
      aborted = true; // a response is written once
      const seconds = (performance.now() - started) / 1000;
      deps.metrics.http(def.name, reply.status, seconds);
      if (reply.status >= 500) deps.log.error({ route: def.name, status: reply.status, ms: Math.round(seconds * 1000) }, 'request failed');
      else if (reply.status >= 400) deps.log.info({ route: def.name, status: reply.status, code: (reply.json as { error?: { code?: string } })?.error?.code }, 'request refused');
    };
    const fail = (err: unknown, close = false): void => {
      if (err instanceof AppError) return finish(errorReply(err), close);
      deps.log.error({ route: def.name, err }, 'handler threw');
      finish(errorReply(new AppError(500, 'INTERNAL', 'internal error')), close);
    };
    let req: Req;
    try {
      const headers = copyHeaders(uReq);
      const params: string[] = [];
      for (let i = 0; i < paramCount; i++) params.push(decodeParam(uReq.getParameter(i) ?? ''));
      req = {
        method: uReq.getMethod(),
        path: uReq.getUrl(),
        params,
        query: {},
        headers,
        principal: null,
        body: null,
        remote: Buffer.from(res.getRemoteAddressAsText()).toString(),
        started,
        arrivedAt: Date.now(),
      };
      if (def.role !== null) req.principal = authenticate(deps.tokens, headers.get('authorization'), def.role);
      if (def.query) {
        const q = queryObject(def.query, new URLSearchParams(uReq.getQuery() ?? ''));
        if ('problem' in q) throw new AppError(400, 'BAD_QUERY', `query parameter ${q.problem.path} ${q.problem.message}`, q.problem.path);
        req.query = q.value;
      } else if ((uReq.getQuery() ?? '') !== '') {
        throw new AppError(400, 'BAD_QUERY', 'this route takes no query parameters');
      }
      def.admit?.(req);
    } catch (err) {
      // The body (if any) was not read: close the connection rather than drain it.
      fail(err, def.maxBodyBytes !== undefined);
      return;
    }
    const run = (): void => {
      let out: Reply | Promise<Reply>;
      try {
        out = handler(req);
      } catch (err) {
        fail(err);
        return;
      }
      if (out instanceof Promise) out.then((r) => finish(r), (err: unknown) => fail(err));
      else finish(out);
    };
    if (def.maxBodyBytes === undefined) {
      run();
      sync = false;
      return;
    }
    const max = def.maxBodyBytes;
    const declared = req.headers.get('content-length');
    if (declared !== undefined && (!/^\d+$/.test(declared) || Number(declared) > max)) {
      fail(new AppError(413, 'TOO_LARGE', `the body is over the ${max}-byte limit`), true);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    res.onData((chunk, isLast) => {
      if (refused || aborted) return;
      size += chunk.byteLength;
      if (size > max) {
        refused = true;
        fail(new AppError(413, 'TOO_LARGE', `the body is over the ${max}-byte limit`), true);
        return;
      }
      // One copy (uWS reuses the chunk's memory): a Buffer over the sliced ArrayBuffer, not a copy of a copy.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) {
        req.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        run();
      }
    });
    sync = false;
  });
}
