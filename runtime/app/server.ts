/**
 * The monitoring app's front: uWebSockets.js routes, auth, the WebSocket feed, search and
 * controls on this thread; the model and its views on the model thread (model-thread/), which
 * this thread calls and whose deltas it publishes. The front's heap stays small, so what it
 * answers never waits behind the model's work or its collections (docs/app.md). It owns the
 * process-level lifecycle (listen, clean shutdown).
 */
import uWS, { type HttpRequest, type HttpResponse, type TemplatedApp, type us_listen_socket, type WebSocket } from 'uWebSockets.js';
import { CONTROL_PATH, MAX_CONTROL_MESSAGE_BYTES, parseProbeMessage, ProtocolError } from '../control/protocol';
import type { LevelWithSilent } from 'pino';
import { createLogger, type Logger } from '../common/logging';
import { allows, tokenFromSubprotocols, type Principal, type TokenStore } from './auth';
import { FileAuditLog, LogAuditLog, type AuditLog } from './audit';
import { CONTROL_BODY, FILTERS_QUERY, OPENAPI_PATH, routeSpec, uwsPattern } from './api-spec';
import { Controls, type ChannelSocket, type ControlBody } from './controls';
import { CatchupQueue, type CatchupSocketData } from './feed-catchup';
import { AppError } from './errors';
import { authenticate, closeUwsApp, copyHeaders, errorReply, route, unmatchedRoute, uwsApp, writeReply, type HttpDeps, type Reply, type Req, type TlsFiles } from './http';
import { Ingest, type IngestLimits } from './ingest';
import { AppMetrics } from './metrics';
import { ModelThread, type FrontEvent } from './model-thread/client';
import type { ModelStats, ThreadModelOptions } from './model-thread/service';
import { openApiText } from './openapi';
import { check, queryObject, assertCheckable } from './schema';
import { SearchIndex } from './search';
import { registerStatic } from './static';
import { isViewId, VIEW_IDS, VIEWS, type Filters, type ViewId } from './views/catalog';
import { ViewHub } from './views/hub';

export interface AppOptions {
  /** Default 127.0.0.1: the app is reachable from elsewhere only when told so. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  /**
   * A second address, served by the model thread, that takes reports only (model-thread/ingest-listener.ts):
   * probes sent there cost the front thread nothing. Same tokens and TLS as the app's. The app's own
   * address takes reports as well. Default: none.
   */
  ingestListen?: { host: string; port: number };
  tokens: TokenStore;
  tls?: TlsFiles;
  /** JSON lines of every control; when absent, entries go to the structured log. */
  auditLogPath?: string;
  logger?: Logger;
  model?: ThreadModelOptions;
  ingest?: IngestLimits;
  /** WebSocket feed: bytes a client may have pending before it is reset. Default 1 MiB. */
  maxClientBacklogBytes?: number;
  /** Least time between two renders of a watched view (coalescing). Default 50 ms. */
  renderIntervalMs?: number;
  /** A view neither watched nor asked for over REST during this long has its render state dropped. Default 60 s. */
  viewIdleReleaseMs?: number;
  /** How long a control waits for the probe. Default 30 s. */
  controlTimeoutMs?: number;
  /** How often stale probes are swept. Default: a quarter of the report interval, at most 5 s. */
  sweepIntervalMs?: number;
}

interface ViewSocketData extends CatchupSocketData {
  kind: 'view';
  principal: Principal;
}

/** Characters per fragment of a full view, and the buffered bytes below which the next one is sent. */
const FULL_VIEW_FRAGMENT_CHARS = 256 * 1024;
/**
 * Full-view characters sent to all catching-up clients in one event-loop turn (feed-catchup.ts):
 * about 1 ms of work here, so a report or a search never waits long behind 100 joining clients.
 */
const CATCHUP_CHARS_PER_TURN = 1024 * 1024;
/** uWS's hard cap on one view client's send buffer (closeOnBackpressureLimit). */
const MAX_VIEW_CLIENT_BACKLOG_BYTES = 64 * 1024 * 1024;
/** Newer full views sent to one client (its catch-up could not be built) before it is reset. */
const MAX_CATCHUP_RESTARTS = 3;

interface ControlSocketData {
  kind: 'control';
  principal: Principal;
  probeId: string | null;
  closed: boolean;
  channel: ChannelSocket | null;
}

const SEARCH_QUERY_SPEC = routeSpec('search').query!;

export class MonitoringApp {
  /** The model, its views and the intake of reports, on their own thread. */
  readonly modelThread: ModelThread;
  private readonly catchups: CatchupQueue;
  /** Replaced by an empty one when the model thread starts again (ModelThread). */
  search = new SearchIndex();
  readonly controls: Controls;
  readonly metrics: AppMetrics;
  readonly audit: AuditLog;
  readonly log: Logger;
  private readonly ingest: Ingest;
  private readonly app: TemplatedApp;
  private listenSocket: us_listen_socket | null = null;
  private ready = false;
  private stopping: Promise<void> | null = null;
  private readonly viewSockets = new Map<string, Set<WebSocket<ViewSocketData>>>();
  private readonly controlSockets = new Set<WebSocket<ControlSocketData>>();
  private readonly backlogLimit: number;
  /** What /metrics reports of the model: asked of the model thread at each scrape. */
  private modelStats: ModelStats = { probes: { live: 0, stale: 0 }, containers: 0, viewNodes: VIEW_IDS.map((view) => ({ view, nodes: 0 })), heap: { used: 0, total: 0 }, loopDelay: [] };
  port = 0;

  constructor(private readonly opts: AppOptions) {
    this.log = opts.logger ?? createLogger('app');
    this.metrics = new AppMetrics({
      probes: () => this.modelStats.probes,
      containers: () => this.modelStats.containers,
      viewNodes: () => this.modelStats.viewNodes,
      modelHeap: () => this.modelStats.heap,
      modelLoopDelay: () => this.modelStats.loopDelay,
      websocketClients: () => [
        { kind: 'view', clients: [...this.viewSockets.values()].reduce((n, s) => n + s.size, 0) },
        { kind: 'control', clients: this.controlSockets.size },
      ],
    });
    this.backlogLimit = opts.maxClientBacklogBytes ?? 1024 * 1024;
    this.ingest = new Ingest(this.metrics, opts.ingest);
    this.modelThread = new ModelThread(
      {
        ...(opts.model ? { model: opts.model } : {}),
        intake: this.ingest.limits,
        ...(opts.renderIntervalMs !== undefined ? { renderIntervalMs: opts.renderIntervalMs } : {}),
        ...(opts.viewIdleReleaseMs !== undefined ? { viewIdleReleaseMs: opts.viewIdleReleaseMs } : {}),
        ...(opts.sweepIntervalMs !== undefined ? { sweepIntervalMs: opts.sweepIntervalMs } : {}),
        ...(opts.ingestListen
          ? {
              ingestListen: {
                ...opts.ingestListen,
                tokens: opts.tokens.entries(),
                logLevel: this.log.level as LevelWithSilent,
                ...(opts.tls ? { tls: opts.tls } : {}),
                ...(opts.ingest ? { limits: opts.ingest } : {}),
              },
            }
          : {}),
      },
      { onEvent: (e) => this.onModelEvent(e), onRestart: (reason) => this.onModelRestart(reason) },
    );
    this.catchups = new CatchupQueue(this.modelThread, {
      fragmentChars: FULL_VIEW_FRAGMENT_CHARS,
      charsPerTurn: CATCHUP_CHARS_PER_TURN,
      maxRestarts: MAX_CATCHUP_RESTARTS,
      reset: (ws, reason) => this.resetClient(ws as WebSocket<ViewSocketData>, reason),
    });
    this.audit = opts.auditLogPath ? new FileAuditLog(opts.auditLogPath) : new LogAuditLog(this.log);
    this.controls = new Controls(this.modelThread, this.audit, opts.controlTimeoutMs);
    assertCheckable(FILTERS_QUERY);
    assertCheckable(SEARCH_QUERY_SPEC);
    assertCheckable(CONTROL_BODY);
    this.app = uwsApp(opts.tls);
    this.routes();
  }

  /** The base URL (http or https) the app listens on. */
  get url(): string {
    return this.urlOf(this.opts.host ?? '127.0.0.1', this.port);
  }

  /** The base URL of the ingest listener (`ingestListen`), or null without one. */
  get ingestUrl(): string | null {
    const port = this.modelThread.ingestPort;
    return this.opts.ingestListen && port !== null ? this.urlOf(this.opts.ingestListen.host, port) : null;
  }

  private urlOf(host: string, port: number): string {
    return `${this.opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  async start(): Promise<void> {
    await this.modelThread.ready;
    const host = this.opts.host ?? '127.0.0.1';
    const listening = new Promise<void>((resolve, reject) => {
      this.app.listen(host, this.opts.port, (socket) => {
        if (!socket) {
          reject(Object.assign(new Error(`cannot listen on ${host}:${this.opts.port}`), { code: 'E_LISTEN' }));
          return;
        }
        this.listenSocket = socket;
        this.port = uWS.us_socket_local_port(socket);
        resolve();
      });
    });
    // An app that cannot listen ends its model thread (and the thread's ingest listener) with it.
    await listening.catch(async (err: unknown) => {
      closeUwsApp(this.app);
      await this.modelThread.close();
      throw err;
    });
    this.ready = true;
    this.log.info({ url: this.url, ...(this.ingestUrl !== null ? { ingestUrl: this.ingestUrl } : {}), tokens: this.opts.tokens.size, tls: Boolean(this.opts.tls) }, 'listening');
  }

  /** Stops accepting, closes sockets, lets reports in progress finish (up to `graceMs`), then releases everything. */
  stop(graceMs = 5000): Promise<void> {
    this.stopping ??= this.doStop(graceMs);
    return this.stopping;
  }

  private async doStop(graceMs: number): Promise<void> {
    this.ready = false;
    this.ingest.drain();
    // The ingest listener drains alongside (on the model thread); a thread already gone has nothing to drain.
    const ingestStopped = this.opts.ingestListen ? this.modelThread.call('stopIngest', graceMs).catch(() => undefined) : Promise.resolve();
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    this.catchups.close();
    for (const set of this.viewSockets.values()) for (const ws of set) if (!ws.getUserData().closed) ws.end(1001, 'app shutting down');
    this.controls.close();
    await this.ingest.settled(graceMs);
    await ingestStopped;
    closeUwsApp(this.app);
    await this.modelThread.close();
    this.audit.close();
    this.metrics.close();
    this.log.info({}, 'stopped');
  }

  private onModelEvent(e: FrontEvent): void {
    if (e.type === 'published') {
      for (let i = 0; i < e.topics.length; i++) this.app.publish(e.topics[i]!, e.messages[i]!, false);
      this.enforceBacklog(e.topics);
      // From the report's arrival at this thread to its delta handed to the clients' sockets.
      if (e.arrivedAt !== null) this.metrics.deltaLatency.observe((Date.now() - e.arrivedAt) / 1000);
    } else if (e.type === 'rendered') {
      this.metrics.renderSeconds.observe({ view: e.view }, e.seconds);
    } else if (e.type === 'counted') {
      this.metrics.addIngestCounts(e.counts);
    } else {
      this.search.apply(e.changes);
    }
  }

  /** The model thread started again, empty: the feeds' clients start again too, and search with it. */
  private onModelRestart(reason: string): void {
    this.log.error({ reason }, 'model thread ended unexpectedly; started again, empty');
    this.search = new SearchIndex();
    for (const set of this.viewSockets.values()) for (const ws of set) if (!ws.getUserData().closed) this.resetClient(ws, 'the app restarted its model; reconnect');
  }

  private deps(): HttpDeps {
    return { tokens: this.opts.tokens, metrics: this.metrics, log: this.log };
  }

  private routes(): void {
    const app = this.app;
    const deps = this.deps();
    const def = (name: string, extra: Partial<Parameters<typeof route>[3]> = {}) => {
      const spec = routeSpec(name);
      return { name, role: spec.role, ...(spec.query ? { query: spec.query } : {}), ...extra };
    };

    route(app, 'get', '/healthz', def('healthz'), deps, () => ({ status: 200, json: { status: 'ok' } }));
    route(app, 'get', '/readyz', def('readyz'), deps, () =>
      this.ready ? { status: 200, json: { ready: true } } : errorReply(new AppError(503, 'SHUTTING_DOWN', 'not ready', undefined, 1)),
    );
    route(app, 'get', '/metrics', def('metrics'), deps, async () => {
      this.modelStats = await this.modelThread.call('stats');
      return { status: 200, raw: await this.metrics.registry.metrics(), contentType: this.metrics.registry.contentType };
    });
    const openapi = openApiText();
    route(app, 'get', OPENAPI_PATH, def('openapi'), deps, () => ({ status: 200, raw: openapi }));

    route(app, 'post', routeSpec('report').path, def('report', { maxBodyBytes: this.ingest.maxEncodedBytes, admit: (req) => this.ingest.admit(req) }), deps, (req) =>
      this.ingest.handle(req, (body, owner, arrivedAt) => this.modelThread.report(body, owner, arrivedAt)),
    );

    route(app, 'get', '/api/topology', def('views'), deps, async () => {
      const counts = await this.modelThread.call('viewNodes');
      return {
        status: 200,
        json: counts.map(({ view: v, nodes }) => ({
          id: v,
          label: VIEWS[v].label,
          nodes,
          filters: VIEWS[v].filters,
          url: `/api/topology/${v}`,
          ws: `/api/topology/${v}/ws`,
        })),
      };
    });
    route(app, 'get', uwsPattern(routeSpec('view').path), def('view'), deps, async (req) => {
      const view = this.viewParam(req.params[0]!);
      const filters = this.filters(view, req.query);
      return { status: 200, raw: await this.modelThread.call('viewJson', view, filters, ViewHub.topicName(view, filters).split('?')[1]!) };
    });
    route(app, 'get', uwsPattern(routeSpec('node').path), def('node'), deps, async (req) => {
      const view = this.viewParam(req.params[0]!);
      const detail = await this.modelThread.call('node', view, req.params[1]!);
      if (!detail) throw new AppError(404, 'UNKNOWN_NODE', `no node ${JSON.stringify(req.params[1]!.slice(0, 200))} in view ${view}`);
      return { status: 200, json: detail };
    });
    route(app, 'get', '/api/search', def('search'), deps, (req) => {
      const t0 = performance.now();
      const result = this.search.search(req.query.q as string, (req.query.limit as number | undefined) ?? 50);
      this.metrics.searchSeconds.observe((performance.now() - t0) / 1000);
      return { status: 200, json: result };
    });
    route(app, 'get', '/api/probes', def('probes'), deps, async () => ({
      status: 200,
      json: (await this.modelThread.call('probes')).map((p) => ({ ...p, controlChannel: this.controlsConnected(p.probeId) })),
    }));
    // The route admits viewers so that a viewer's attempt is audited before it is refused.
    route(app, 'post', '/api/control', { name: 'control', role: 'viewer', maxBodyBytes: 16 * 1024 }, deps, (req) => this.control(req));

    registerStatic(app, deps);
    this.viewFeed();
    this.controlChannel();

    unmatchedRoute(app, this.metrics);
  }

  private controlsConnected(probeId: string): boolean {
    for (const ws of this.controlSockets) if (ws.getUserData().probeId === probeId) return true;
    return false;
  }

  private viewParam(v: string): ViewId {
    if (!isViewId(v)) throw new AppError(404, 'UNKNOWN_VIEW', `no view ${JSON.stringify(v.slice(0, 100))}; views: ${VIEW_IDS.join(', ')}`, 'view');
    return v;
  }

  private filters(view: ViewId, query: Record<string, unknown>): Filters {
    for (const k of Object.keys(query)) {
      if (!(VIEWS[view].filters as readonly string[]).includes(k)) throw new AppError(400, 'BAD_QUERY', `view ${view} has no ${k} filter`, k);
    }
    return query as Filters;
  }

  private async control(req: Req): Promise<Reply> {
    const who = req.principal!;
    const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json', 'content-type');
    let body: unknown;
    try {
      body = JSON.parse((req.body ?? Buffer.alloc(0)).toString('utf8'));
    } catch {
      throw new AppError(400, 'BAD_REQUEST', 'the body is not JSON');
    }
    if (!allows(who.role, 'admin')) {
      this.controls.auditRefusal(typeof body === 'object' && body !== null ? (body as Partial<ControlBody>) : {}, who, req.remote, 'FORBIDDEN');
      throw new AppError(403, 'FORBIDDEN', `controls need the admin role; the token has ${who.role}`);
    }
    const problem = check(CONTROL_BODY, body);
    if (problem) throw new AppError(400, 'BAD_REQUEST', `${problem.path || 'body'} ${problem.message}`, problem.path);
    const outcome = await this.controls.run(body as ControlBody, who, req.remote);
    this.metrics.controls.inc({ control: (body as ControlBody).control, result: 'ok' });
    return { status: 200, json: outcome };
  }

  /** Resets and closes clients of `topics` whose unsent backlog is over the bound. */
  private enforceBacklog(topics: string[]): void {
    for (const topic of topics) {
      const set = this.viewSockets.get(topic);
      if (!set) continue;
      for (const ws of set) {
        const d = ws.getUserData();
        // A client catching up is not subscribed: its buffer holds at most two fragments (pump).
        if (d.closed || d.catchup !== null || ws.getBufferedAmount() <= this.backlogLimit) continue;
        this.resetClient(ws, 'client fell behind; reconnect for a full view');
      }
    }
  }

  private resetClient(ws: WebSocket<ViewSocketData>, reason: string): void {
    const d = ws.getUserData();
    d.closed = true;
    this.metrics.websocketResets.inc();
    this.log.warn({ who: d.principal.name, topic: d.topic, backlog: ws.getBufferedAmount(), reason }, 'websocket client too slow: reset');
    // The client reconnects and starts again from a full view.
    ws.send(JSON.stringify({ type: 'reset', reason }), false);
    ws.end(4008, 'slow consumer');
  }

  private upgradeAuth(headers: Map<string, string>, role: 'viewer' | 'probe'): { principal: Principal; protocol: string } {
    const sub = tokenFromSubprotocols(headers.get('sec-websocket-protocol') ?? '');
    const authorization = headers.get('authorization') ?? (sub ? `Bearer ${sub.token}` : undefined);
    return { principal: authenticate(this.opts.tokens, authorization, role), protocol: headers.get('authorization') ? '' : (sub?.protocol ?? '') };
  }

  /**
   * Authenticates a WebSocket upgrade for `role` and completes it with the socket's data, or
   * answers the error (e.g. 401, 403, 400 from `data`); counted under `route` either way.
   */
  private upgradeSocket<T>(res: HttpResponse, req: HttpRequest, context: uWS.us_socket_context_t, route: string, role: 'viewer' | 'probe', data: (principal: Principal) => T): void {
    const t0 = performance.now();
    const headers = copyHeaders(req);
    try {
      if (!this.ready) throw new AppError(503, 'SHUTTING_DOWN', 'not ready', undefined, 1);
      const { principal, protocol } = this.upgradeAuth(headers, role);
      res.upgrade<T>(data(principal), headers.get('sec-websocket-key') ?? '', protocol, headers.get('sec-websocket-extensions') ?? '', context);
      this.metrics.http(route, 101, (performance.now() - t0) / 1000);
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError(500, 'INTERNAL', 'internal error');
      writeReply(res, errorReply(e));
      this.metrics.http(route, e.status, (performance.now() - t0) / 1000);
    }
  }

  private viewFeed(): void {
    this.app.ws<ViewSocketData>(uwsPattern(routeSpec('view_ws').path), {
      compression: uWS.DISABLED,
      maxPayloadLength: 4 * 1024,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      // A hard cap far above the reset bound and what a catch-up hands uWS at once (two fragments
      // and the recent deltas): the bound is what normally applies (enforceBacklog, pump). An 8 MiB
      // cap closed the silent feed of test/ui/ui.test.ts ("a feed that opens but brings no view")
      // before the page's own 15 s watchdog; not understood yet, so the cap stays where it was.
      maxBackpressure: Math.max(this.backlogLimit * 8, MAX_VIEW_CLIENT_BACKLOG_BYTES),
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) =>
        this.upgradeSocket<ViewSocketData>(res, req, context, 'view_ws', 'viewer', (principal) => {
          const view = this.viewParam(req.getParameter(0) ?? '');
          const q = queryObject(FILTERS_QUERY, new URLSearchParams(req.getQuery() ?? ''));
          if ('problem' in q) throw new AppError(400, 'BAD_QUERY', `query parameter ${q.problem.path} ${q.problem.message}`, q.problem.path);
          const topic = ViewHub.topicName(view, this.filters(view, q.value));
          return { kind: 'view', principal, topic, closed: false, catchup: null };
        }),
      open: (ws) => {
        const d = ws.getUserData();
        const [view, query] = splitTopic(d.topic);
        let set = this.viewSockets.get(d.topic);
        if (!set) this.viewSockets.set(d.topic, (set = new Set()));
        set.add(ws);
        // Full view first (in fragments), then the deltas since its seq, then subscribe. The
        // unsubscribe of a socket closed meanwhile reaches the model thread after this subscribe.
        this.modelThread.subscribe(view, Object.fromEntries(new URLSearchParams(query)) as Filters).then(
          ({ full, seq }) => {
            if (!d.closed) this.catchups.start(ws, full, seq);
          },
          (err: unknown) => {
            if (!d.closed) this.resetClient(ws, err instanceof AppError ? err.message : 'the view is not available now; reconnect');
          },
        );
      },
      drain: (ws) => this.catchups.wake(ws),
      message: () => {
        // The feed is one-way; client messages are ignored (pings are handled by uWS).
      },
      close: (ws) => {
        const d = ws.getUserData();
        d.closed = true;
        this.catchups.forget(ws);
        this.viewSockets.get(d.topic)?.delete(ws);
        if (this.viewSockets.get(d.topic)?.size === 0) this.viewSockets.delete(d.topic);
        this.modelThread.unsubscribe(d.topic);
      },
    });
  }

  private controlChannel(): void {
    this.app.ws<ControlSocketData>(CONTROL_PATH, {
      compression: uWS.DISABLED,
      maxPayloadLength: MAX_CONTROL_MESSAGE_BYTES,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      maxBackpressure: 4 * MAX_CONTROL_MESSAGE_BYTES,
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) =>
        this.upgradeSocket<ControlSocketData>(res, req, context, 'probe_control', 'probe', (principal) =>
          ({ kind: 'control', principal, probeId: null, closed: false, channel: null })),
      open: (ws) => {
        this.controlSockets.add(ws);
        const d = ws.getUserData();
        d.channel = {
          send: (text) => (d.closed ? false : ws.send(text, false) !== 2),
          close: (code, reason) => {
            if (!d.closed) {
              d.closed = true;
              ws.end(code, reason);
            }
          },
        };
      },
      message: (ws, message, isBinary) => {
        const d = ws.getUserData();
        const refuse = (reason: string): void => {
          this.log.warn({ who: d.principal.name, reason }, 'control channel message refused');
          d.channel!.close(1008, reason.slice(0, 120));
        };
        if (isBinary) return refuse('control messages are JSON text frames');
        let msg;
        try {
          msg = parseProbeMessage(Buffer.from(message).toString('utf8'));
        } catch (err) {
          return refuse(err instanceof ProtocolError ? err.message : 'bad message');
        }
        if (msg.type === 'hello') {
          if (d.probeId !== null) return refuse('hello sent twice');
          d.probeId = msg.probeId;
          const hello = msg;
          this.controls.register(d.channel!, hello, d.principal.name).then(
            () => {
              // A channel closed while its hello was checked is not kept.
              if (d.closed) this.controls.unregister(d.channel!);
              else this.log.info({ probeId: hello.probeId, who: d.principal.name, controls: hello.controls }, 'control channel open');
            },
            (err: unknown) => refuse(err instanceof AppError ? err.message : 'refused'),
          );
          return;
        }
        if (d.probeId === null) return refuse('the first message must be hello');
        this.controls.onResult(d.channel!, msg);
      },
      close: (ws) => {
        const d = ws.getUserData();
        d.closed = true;
        this.controlSockets.delete(ws);
        if (d.channel) this.controls.unregister(d.channel);
      },
    });
  }
}

function splitTopic(topic: string): [ViewId, string] {
  const q = topic.indexOf('?');
  return [topic.slice('view/'.length, q) as ViewId, topic.slice(q + 1)];
}
