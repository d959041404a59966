/**
 * Publishing reports to one or more apps (runtime/control/protocol.ts: POST
 * REPORT_PATH, gzip JSON, bearer token).
 *
 * `publish()` is the probe's ReportSink: it only enqueues and returns, so
 * collection never waits on the network. Each app URL has its own queue and
 * sender, so a slow or dead app delays no other.
 *
 * Queue: deltas are cumulative against their base full report, so a newer
 * delta supersedes every queued delta with the same base, and a full report
 * supersedes everything queued before it; the queue therefore stays tiny. If
 * it still overflows `maxQueue`, the oldest deltas go first, then the oldest
 * full reports.
 *
 * Retries: exponential backoff with jitter on network errors, timeouts, 5xx
 * and 401/403 (the token file is re-read: tokens rotate); 429 and 503 wait
 * for the app's Retry-After. After any failure, the first report sent once the
 * app answers again is the latest full report (followed by the latest delta on
 * it), so an app that restarted or missed reports is brought level; the same
 * on 409 DELTA_BASE_UNKNOWN. 400/413/415 mean this report will never be
 * accepted: it is dropped and counted.
 */
import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher } from 'undici';
import { REPORT_PATH } from '../control/protocol';
import { encodeReport, REPORT_CONTENT_ENCODING, REPORT_CONTENT_TYPE, type Report } from '../report';
import { Backoff, sleep } from './limit';

/** What the publisher tells the probe's metrics. */
export interface PublishObserver {
  published(app: string, bytes: number, seconds: number): void;
  failed(app: string, reason: string, seconds: number): void;
  dropped(app: string, reason: string): void;
}

export interface PublisherOptions {
  apps: readonly string[];
  /**
   * Send reports to this port of each app's host (the app's ingest listener, `--ingest-listen`),
   * not to the app URL's own port; scheme and host stay the app URL's. Default: the app URL's port.
   */
  reportPort?: number;
  /** Read at start and re-read every minute and after 401/403. */
  tokenFile?: string;
  token?: string;
  /** PEM file of the CA that signed the apps' certificates (instead of the system roots). */
  caFile?: string;
  maxQueue?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Longest wait for one POST, connect to answer. Default 10 s. */
  timeoutMs?: number;
  /** Longest Retry-After honoured, in seconds. Default 300. */
  maxRetryAfterSeconds?: number;
  observer?: PublishObserver;
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void };
  random?: () => number;
}

export class PublishError extends Error {
  constructor(
    readonly code: 'E_PUBLISH_CONFIG',
    message: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

/**
 * A report's encoding, made once and shared by every app's queue, with what
 * the queues need to know about the report (kind, seq, base).
 *
 * The encoding starts when the report is published, and the report itself is
 * not kept: the probe lets go of a full report when its next full pass starts
 * (runtime/probe/probe.ts), and a queue holding it (an app down for a while)
 * would otherwise keep a second copy of the host's nodes in the probe's
 * memory during that pass.
 */
class Item {
  readonly kind: Report['kind'];
  readonly seq: number;
  /** A delta's full report (undefined for a full report). */
  readonly baseSeq: number | undefined;
  private readonly encoded: Promise<Buffer>;
  constructor(report: Report) {
    this.kind = report.kind;
    this.seq = report.seq;
    this.baseSeq = report.kind === 'delta' ? report.baseSeq : undefined;
    this.encoded = encodeReport(report);
    // Read by send(); a failure there is logged and the item dropped. Until then it must not count as unhandled.
    this.encoded.catch(() => undefined);
  }
  bytes(): Promise<Buffer> {
    return this.encoded;
  }
}

interface Shared {
  lastFull: Item | null;
  /** The newest delta on lastFull, if any. */
  lastDelta: Item | null;
}

export class Publisher {
  private readonly targets: Target[];
  private readonly shared: Shared = { lastFull: null, lastDelta: null };
  private readonly dispatcher: Dispatcher;
  /** The `--ca-file` PEM the app connections trust instead of the system roots (the control channel uses it too). */
  readonly tlsCa: string | undefined;
  private readonly stop = new AbortController();
  private token = '';
  private tokenReadAt = 0;

  constructor(private readonly opts: PublisherOptions) {
    if (opts.apps.length === 0) throw new PublishError('E_PUBLISH_CONFIG', 'at least one --app URL is needed');
    let ca: string | undefined;
    if (opts.caFile) {
      try {
        ca = readFileSync(opts.caFile, 'utf8');
      } catch (err) {
        throw new PublishError('E_PUBLISH_CONFIG', `cannot read --ca-file ${opts.caFile}: ${(err as Error).message}`);
      }
    }
    if (opts.tokenFile) this.readToken(true);
    else if (!opts.token) throw new PublishError('E_PUBLISH_CONFIG', 'a token is needed (--token-file)');
    this.tlsCa = ca;
    const timeout = opts.timeoutMs ?? 10_000;
    // rejectUnauthorized stays at its default (true): TLS is always verified.
    this.dispatcher = new Agent({ connect: { timeout, ...(ca ? { ca } : {}) }, headersTimeout: timeout, bodyTimeout: timeout, keepAliveTimeout: 30_000 });
    const port = opts.reportPort;
    if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new PublishError('E_PUBLISH_CONFIG', `--ingest-port must be a port from 1 to 65535, not ${port}`);
    this.targets = opts.apps.map((app) => {
      let url: URL;
      try {
        url = new URL(REPORT_PATH, app);
      } catch {
        throw new PublishError('E_PUBLISH_CONFIG', `not a URL: ${app}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PublishError('E_PUBLISH_CONFIG', `--app must be http(s): ${app}`);
      if (opts.reportPort !== undefined) url.port = String(opts.reportPort);
      return new Target(app, url, this, opts, this.shared, this.stop.signal);
    });
  }

  /**
   * The probe's sink: enqueue and return. The promise settles when the
   * report's encoding has ended, after which the publisher reads nothing of
   * the report object (see ReportSink); it never rejects.
   */
  publish = (report: Report): Promise<void> => {
    const item = new Item(report);
    if (report.kind === 'full') {
      this.shared.lastFull = item;
      this.shared.lastDelta = null;
    } else if (this.shared.lastFull && report.baseSeq === this.shared.lastFull.seq) {
      this.shared.lastDelta = item;
    }
    for (const t of this.targets) t.enqueue(item);
    return item.bytes().then(
      () => undefined,
      () => undefined,
    );
  };

  /** Current bearer token (re-read from the file at most once a minute unless forced). */
  bearer(force = false): string {
    if (this.opts.tokenFile) this.readToken(force);
    return this.opts.token ?? this.token;
  }

  private readToken(force: boolean): void {
    if (!force && Date.now() - this.tokenReadAt < 60_000) return;
    try {
      const t = readFileSync(this.opts.tokenFile!, 'utf8').trim();
      if (t.length === 0) throw new Error('the file is empty');
      this.token = t;
      this.tokenReadAt = Date.now();
    } catch (err) {
      if (this.token === '') throw new PublishError('E_PUBLISH_CONFIG', `cannot read --token-file ${this.opts.tokenFile}: ${(err as Error).message}`);
      // Keep the previous token; the next 401 will say so.
      this.tokenReadAt = Date.now();
    }
  }

  get http(): Dispatcher {
    return this.dispatcher;
  }

  /** Per app: queued reports and whether it is reachable. */
  status(): Array<{ app: string; queued: number; connected: boolean; lastError: string | null }> {
    return this.targets.map((t) => ({ app: t.app, queued: t.queued, connected: t.connected, lastError: t.lastError }));
  }

  /** Waits (bounded) for the queues to drain, then stops the senders. */
  async close(drainMs = 2_000): Promise<void> {
    const deadline = Date.now() + drainMs;
    while (Date.now() < deadline && this.targets.some((t) => t.queued > 0 && t.connected)) await sleep(20);
    this.stop.abort();
    await Promise.all(this.targets.map((t) => t.done()));
    await this.dispatcher.close().catch(() => undefined);
  }
}

type SendOutcome = { kind: 'ok' } | { kind: 'drop' } | { kind: 'retry'; reason: string; retryAfterMs?: number } | { kind: 'resync'; reason: string };

class Target {
  private queue: Item[] = [];
  private running: Promise<void> | null = null;
  private disconnected = false;
  private readonly backoff: Backoff;
  connected = false;
  lastError: string | null = null;

  constructor(
    readonly app: string,
    private readonly url: URL,
    private readonly pub: Publisher,
    private readonly opts: PublisherOptions,
    private readonly shared: Shared,
    private readonly signal: AbortSignal,
  ) {
    this.backoff = new Backoff(opts.backoff?.initialMs ?? 500, opts.backoff?.maxMs ?? 30_000, opts.random);
  }

  get queued(): number {
    return this.queue.length;
  }

  enqueue(item: Item): void {
    if (item.kind === 'full') {
      for (let i = 0; i < this.queue.length; i++) this.opts.observer?.dropped(this.app, 'superseded');
      this.queue = [item];
    } else {
      const base = item.baseSeq;
      const before = this.queue.length;
      this.queue = this.queue.filter((q) => !(q.kind === 'delta' && q.baseSeq === base));
      for (let i = this.queue.length; i < before; i++) this.opts.observer?.dropped(this.app, 'superseded');
      this.queue.push(item);
    }
    const max = this.opts.maxQueue ?? 8;
    while (this.queue.length > max) {
      const i = this.queue.findIndex((q) => q.kind === 'delta');
      this.queue.splice(i >= 0 ? i : 0, 1);
      this.opts.observer?.dropped(this.app, 'queue_full');
    }
    this.running ??= this.run().finally(() => (this.running = null));
  }

  done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Replaces the queue with the latest full report and the latest delta on it. */
  private resync(): void {
    const { lastFull, lastDelta } = this.shared;
    if (!lastFull) return;
    this.queue = lastDelta ? [lastFull, lastDelta] : [lastFull];
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0 && !this.signal.aborted) {
      if (this.disconnected) this.resync();
      const item = this.queue[0]!;
      const outcome = await this.send(item);
      if (this.signal.aborted) return;
      if (outcome.kind === 'ok' || outcome.kind === 'drop') {
        if (this.queue[0] === item) this.queue.shift();
        if (outcome.kind === 'ok') {
          if (this.disconnected) this.opts.logger?.info({ app: this.app }, 'app reachable again; sent a full report');
          this.disconnected = false;
          this.connected = true;
          this.lastError = null;
          this.backoff.reset();
        }
        continue;
      }
      this.lastError = outcome.reason;
      if (outcome.kind === 'resync') {
        this.resync();
        if (this.queue[0] === item && item.kind === 'delta') this.queue.shift(); // no full yet: nothing better to send
        continue;
      }
      if (!this.disconnected) this.opts.logger?.warn({ app: this.app, reason: outcome.reason }, 'publish failing; retrying with backoff');
      this.disconnected = true;
      this.connected = false;
      const wait = outcome.retryAfterMs ?? this.backoff.next();
      await sleep(wait, this.signal);
    }
  }

  private async send(item: Item): Promise<SendOutcome> {
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    let body: Buffer;
    try {
      body = await item.bytes();
    } catch (err) {
      this.opts.observer?.dropped(this.app, 'encode_failed');
      this.opts.logger?.warn({ err: (err as Error).message }, 'report encoding failed; dropped');
      return { kind: 'drop' };
    }
    let status: number;
    let text = '';
    let retryAfter: string | undefined;
    try {
      const res = await this.pub.http.request({
        origin: this.url.origin,
        path: this.url.pathname,
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.pub.bearer()}`,
          'content-type': REPORT_CONTENT_TYPE,
          'content-encoding': REPORT_CONTENT_ENCODING,
        },
        body,
        signal: this.signal,
      });
      status = res.statusCode;
      const ra = res.headers['retry-after'];
      retryAfter = Array.isArray(ra) ? ra[0] : ra;
      text = status === 202 || status === 200 ? '' : (await res.body.text()).slice(0, 2000);
      if (status === 202 || status === 200) await res.body.dump();
    } catch (err) {
      const reason = networkReason(err);
      this.opts.observer?.failed(this.app, reason, seconds());
      return { kind: 'retry', reason: `${reason}: ${(err as Error).message}` };
    }
    if (status === 202 || status === 200) {
      this.opts.observer?.published(this.app, body.length, seconds());
      return { kind: 'ok' };
    }
    const code = errorCode(text);
    if (status === 409 && code === 'DELTA_BASE_UNKNOWN') {
      this.opts.observer?.failed(this.app, 'delta_base_unknown', seconds());
      return { kind: 'resync', reason: 'DELTA_BASE_UNKNOWN' };
    }
    if (status === 400 || status === 413 || status === 415) {
      this.opts.observer?.failed(this.app, `rejected_${status}`, seconds());
      this.opts.observer?.dropped(this.app, `rejected_${status}`);
      this.opts.logger?.warn({ app: this.app, status, code, seq: item.seq, kind: item.kind }, 'report rejected by the app; dropped');
      return { kind: 'drop' };
    }
    if (status === 401 || status === 403) {
      this.pub.bearer(true);
      this.opts.observer?.failed(this.app, 'unauthorized', seconds());
      return { kind: 'retry', reason: `unauthorized (${status} ${code ?? ''})` };
    }
    if (status === 429 || status === 503) {
      this.opts.observer?.failed(this.app, status === 429 ? 'rate_limited' : 'unavailable', seconds());
      const ms = parseRetryAfter(retryAfter, this.opts.maxRetryAfterSeconds ?? 300);
      return { kind: 'retry', reason: `${status} ${code ?? ''}`, ...(ms !== undefined ? { retryAfterMs: ms } : {}) };
    }
    this.opts.observer?.failed(this.app, `http_${status}`, seconds());
    return { kind: 'retry', reason: `HTTP ${status} ${code ?? text.slice(0, 100)}` };
  }
}

/** Retry-After as delta-seconds or an HTTP date, in ms, capped; undefined when absent or unreadable. */
export function parseRetryAfter(v: string | undefined, maxSeconds: number, now = Date.now()): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  let ms: number;
  if (/^\d+$/.test(t)) ms = Number(t) * 1000;
  else {
    const at = Date.parse(t);
    if (!Number.isFinite(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, maxSeconds * 1000);
}

function errorCode(text: string): string | undefined {
  try {
    const v = JSON.parse(text) as { error?: { code?: unknown } };
    return typeof v.error?.code === 'string' ? v.error.code : undefined;
  } catch {
    return undefined;
  }
}

function networkReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code)) return 'tls';
  return 'network';
}

