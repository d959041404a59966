/** Shared by the app's tests: tokens, a running app, and clients that speak its API. */
import { request } from 'undici';
import { WebSocket } from 'undici';
import { gzipSync } from 'node:zlib';
import { TokenStore } from '../../runtime/app/auth';
import type { ModelInspection } from '../../runtime/app/model-thread/service';
import { MonitoringApp, type AppOptions } from '../../runtime/app/server';
import { createLogger } from '../../runtime/common/logging';
import { encodeReportSync, type Report } from '../../runtime/report';

export const TOKENS = {
  probe: 'probe-token-0123456789abcdef',
  probe2: 'probe-token-second-0123456789',
  viewer: 'viewer-token-0123456789abcdef',
  admin: 'admin-token-0123456789abcdef0',
};

export function tokenStore(): TokenStore {
  return TokenStore.parse(
    [`probe-a:probe:${TOKENS.probe}`, `probe-b:probe:${TOKENS.probe2}`, `alice:viewer:${TOKENS.viewer}`, `root:admin:${TOKENS.admin}`].join('\n'),
    'test',
  );
}

export async function startApp(opts: Partial<AppOptions> = {}): Promise<MonitoringApp> {
  const app = new MonitoringApp({ port: 0, tokens: tokenStore(), logger: createLogger('app', { level: 'silent' }), ...opts });
  await app.start();
  return app;
}

/** What the app's model thread holds now (ModelService.inspect). */
export function inspect(app: MonitoringApp): Promise<ModelInspection> {
  return app.modelThread.call('inspect');
}

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** An app (its own listener), or the base URL of one of its listeners (e.g. `app.ingestUrl`). */
export type Target = MonitoringApp | string;

export async function http(app: Target, method: string, path: string, opts: { token?: string; body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const r = await request((typeof app === 'string' ? app : app.url) + path, { method: method as 'GET', headers, body: opts.body });
  const text = await r.body.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.statusCode, headers: r.headers, text, json };
}

export function postReport(app: Target, report: Report | Buffer, token = TOKENS.probe, headers: Record<string, string> = {}): Promise<Res> {
  const body = Buffer.isBuffer(report) ? report : encodeReportSync(report);
  return http(app, 'POST', '/api/report', { token, body, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...headers } });
}

export const gzipJson = (x: unknown): Buffer => gzipSync(Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)));

/** A WebSocket client that queues every message it gets. */
export class FeedClient {
  readonly messages: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  private waiters: Array<() => void> = [];
  closed: { code: number; reason: string } | null = null;
  readonly ws: WebSocket;

  constructor(url: string, token: string, useSubprotocol = false) {
    this.ws = useSubprotocol ? new WebSocket(url, [`bearer.${token}`]) : new WebSocket(url, { headers: { authorization: `Bearer ${token}` } } as never);
    this.ws.onmessage = (e) => {
      this.messages.push(JSON.parse(String(e.data)));
      this.wake();
    };
    this.ws.onclose = (e) => {
      this.closed = { code: e.code, reason: e.reason };
      this.wake();
    };
    this.ws.onerror = () => this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits for a message matching `pred` (searching from `from`); rejects after `ms`. */
  async waitFor(pred: (m: any) => boolean, ms = 3000, from = 0): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.slice(from).find(pred);
      if (found) return found;
      if (this.closed) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) before a matching message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message in ${ms} ms; got ${this.messages.map((m) => m.type).join(',')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async waitClosed(ms = 3000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (!this.closed) throw new Error('not closed');
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }
}

export function wsUrl(app: MonitoringApp, path: string): string {
  return app.url.replace(/^http/, 'ws') + path;
}
