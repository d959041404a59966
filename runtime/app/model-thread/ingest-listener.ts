/**
 * The ingest listener (`orchestrator app --ingest-listen HOST:PORT`, off by default): `POST
 * /api/report` served by the model thread itself, on a port of its own, so that a report goes from
 * its socket to the model without crossing threads.
 *
 * On the app's own listener every report is read by the front thread (HTTP, auth, admission),
 * posted to the model thread and its answer posted back: 67 reports a second at 1,000 probes, each
 * waking both threads. Here the front thread, which answers search and the WebSocket feed, never
 * sees a report, and the probes have an address of their own (a NetworkPolicy or a load balancer
 * for them alone). Measured at 1,000 probes (docs/app.md, round 16): the front's CPU halved, the
 * model thread's grew by about as much, and neither the app's CPU nor the search tail improved; so
 * it is an option, not the deployed default.
 *
 * The same route wrapper (http.ts) and admission (`Ingest`: token and role, overload, rate per
 * token, headers, size) as on the app's listener; the app's listener keeps taking reports too.
 * What is counted here (requests, reports, ingest and merge times) reaches the front thread's
 * metrics through `IngestTally`: one process, one /metrics.
 */
import uWS, { type TemplatedApp, type us_listen_socket } from 'uWebSockets.js';
import { REPORT_PATH } from '../../control/protocol';
import type { LevelWithSilent } from 'pino';
import type { Logger } from '../../common/logging';
import { routeSpec } from '../api-spec';
import { TokenStore, type Principal } from '../auth';
import { closeUwsApp, route, unmatchedRoute, uwsApp, type RequestMetrics, type TlsFiles } from '../http';
import { Ingest, ingestReport, type IngestLimits, type IngestMetrics, type IntakeLimits } from '../ingest';
import type { LiveModel } from '../model';

/** What the model thread needs to listen for reports (plain data: it crosses to the thread). */
export interface IngestListenOptions {
  host: string;
  /** 0 picks a free port (tests); the port taken is in the thread's ready message. */
  port: number;
  /** The app's tokens as `TokenStore.entries()`: digests and principals. */
  tokens: Array<[string, Principal]>;
  tls?: TlsFiles;
  limits?: IngestLimits;
  /** The front thread's log level, which this thread's logger takes (refusals are logged at info). Default info. */
  logLevel?: LevelWithSilent;
}

/** Counts of the ingest listener since the last flush, as the front thread's metrics take them. */
export interface IngestCounts {
  /** Per request: route name, status code, seconds. */
  readonly requests: Array<[route: string, code: number, seconds: number]>;
  /** Per report: kind, result. */
  readonly reports: Array<[kind: string, result: string]>;
  readonly mergeSeconds: number[];
  readonly ingestSeconds: number[];
}

/** Counts are handed over at least this often, and sooner when this many wait. */
export const TALLY_FLUSH_MS = 1000;
export const TALLY_MAX_PENDING = 1000;

/**
 * The listener's metrics: `RequestMetrics` and `IngestMetrics` as the route wrapper and `Ingest`
 * call them, kept as plain values and handed to `flushTo` once a second (a prom-client registry of
 * the thread's own would make a second /metrics or a merge of two at each scrape).
 */
export class IngestTally implements RequestMetrics, IngestMetrics {
  private counts: IngestCounts = IngestTally.empty();
  private pending = 0;
  private readonly timer: NodeJS.Timeout;

  readonly reports = { inc: (labels: { kind: string; result: string }): void => this.add(() => this.counts.reports.push([labels.kind, labels.result])) };
  readonly mergeSeconds = { observe: (s: number): void => this.add(() => this.counts.mergeSeconds.push(s)) };
  readonly ingestSeconds = { observe: (s: number): void => this.add(() => this.counts.ingestSeconds.push(s)) };

  constructor(private readonly flushTo: (counts: IngestCounts) => void) {
    this.timer = setInterval(() => this.flush(), TALLY_FLUSH_MS);
    this.timer.unref();
  }

  private static empty(): IngestCounts {
    return { requests: [], reports: [], mergeSeconds: [], ingestSeconds: [] };
  }

  http(routeName: string, code: number, seconds: number): void {
    this.add(() => this.counts.requests.push([routeName, code, seconds]));
  }

  private add(push: () => void): void {
    push();
    if (++this.pending >= TALLY_MAX_PENDING) this.flush();
  }

  /** Hands over what was counted since the last flush (nothing when nothing was). */
  flush(): void {
    if (this.pending === 0) return;
    const out = this.counts;
    this.counts = IngestTally.empty();
    this.pending = 0;
    this.flushTo(out);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}

export class IngestListenError extends Error {
  readonly code = 'E_LISTEN';
  constructor(message: string) {
    super(message);
    this.name = 'IngestListenError';
  }
}

export class IngestListener {
  private readonly app: TemplatedApp;
  private readonly ingest: Ingest;
  private readonly tally: IngestTally;
  private socket: us_listen_socket | null = null;
  private stopping: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly opts: IngestListenOptions,
    model: LiveModel,
    intake: IntakeLimits,
    counted: (counts: IngestCounts) => void,
    log: Logger,
  ) {
    this.tally = new IngestTally(counted);
    this.ingest = new Ingest(this.tally, { ...opts.limits, maxEncodedBytes: intake.maxEncodedBytes, maxDecodedBytes: intake.maxDecodedBytes });
    this.app = uwsApp(opts.tls);
    const deps = { tokens: TokenStore.fromEntries(opts.tokens), metrics: this.tally, log };
    const report = routeSpec('report');
    route(this.app, 'post', REPORT_PATH, { name: 'report', role: report.role, maxBodyBytes: this.ingest.maxEncodedBytes, admit: (req) => this.ingest.admit(req) }, deps, (req) =>
      this.ingest.handle(req, (body, owner, arrivedAt) => ingestReport(model, body, intake, owner, arrivedAt)),
    );
    route(this.app, 'get', '/healthz', { name: 'healthz', role: null }, deps, () => ({ status: 200, json: { status: 'ok' } }));
    unmatchedRoute(this.app, this.tally, `: this is the ingest listener, which takes POST ${REPORT_PATH} only`);
  }

  /** Listens; returns the port. Throws an IngestListenError when the address cannot be had. */
  listen(): number {
    const { host, port } = this.opts;
    // uWS calls back before listen() returns.
    this.app.listen(host, port, (socket) => {
      this.socket = socket || null;
    });
    if (this.socket === null) throw new IngestListenError(`cannot listen for reports on ${host}:${port} (--ingest-listen): the address is in use or not this machine's`);
    return uWS.us_socket_local_port(this.socket);
  }

  /**
   * Refuses new reports (503), stops accepting connections, lets reports in progress finish (up
   * to `graceMs`), then closes every socket and hands over the last counts.
   */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= (async () => {
      this.stopAccepting();
      await this.ingest.settled(graceMs);
      this.closeNow();
    })();
    return this.stopping;
  }

  /** Refuses new reports (503) and closes the listening socket. */
  private stopAccepting(): void {
    this.ingest.drain();
    if (this.socket !== null) uWS.us_listen_socket_close(this.socket);
    this.socket = null;
  }

  /**
   * Closes the listening socket and every connection now, and hands over the last counts. This
   * thread must not end with them open: uWS would abort the process (worker.ts).
   */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopAccepting();
    closeUwsApp(this.app);
    this.tally.close();
  }
}
